import Foundation
import FlowEngine

/// Held-out bits per sample, as the reference scores them: each sequence is one sequence of its
/// first ⌊n/g⌋·g samples (g = the model's length granularity); sequences longer than
/// `maxLength` are scored in consecutive pieces of at most that length (bounded memory).
/// bits/sample = −Σ log-ratio / (ln 2 · Σ scored samples) (`Objective.bitsPerSample`). With k importance samples the bound
/// log (1/k) Σ exp(log-ratio_j) is computed in Double (log-sum-exp), from k draws separate from
/// the ELBO's draw. ELBO ≤ IWBO(k) ≤ log P(x) in expectation.
public enum Evaluator {
    public struct FileResult: Codable, Sendable {
        public var name: String
        public var samples: Int
        public var elboBitsPerSample: Double
        public var iwboBitsPerSample: Double?
    }

    public struct Result: Codable, Sendable {
        public var files: [FileResult]
        public var samples: Int
        public var elboBitsPerSample: Double
        public var iwboBitsPerSample: Double?
        public var importanceSamples: Int
        public var method: String
        public var skipped: Int
    }

    public static func evaluate(model: DequantModel, corpus: Corpus, importanceSamples k: Int = 0, seed: UInt64 = 0,
                                maxLength: Int = 1 << 20, threads: Int = 2) throws -> Result {
        guard corpus.encoding.binCount == model.binCount else {
            throw DequantizationError.binCountMismatch(path: "evaluation data", model: model.binCount, data: corpus.encoding.binCount)
        }
        try BLAS.ensureLoaded()
        BLAS.setThreads(1)
        model.flow.workers = max(1, threads)
        model.noise?.workers = max(1, threads)
        let objective = Objective(model: model)
        let g = model.lengthMultiple
        let piece = max(g, maxLength / g * g)
        var files: [FileResult] = []
        var totalElbo = 0.0, totalIw = 0.0, total = 0, skipped = 0
        for (fi, s) in corpus.sequences.enumerated() {
            let usable = s.bins.count / g * g
            if usable == 0 { skipped += 1; continue }
            var rng = SplitMix64(seed: CounterRNG.mix(seed ^ CounterRNG.mix(UInt64(fi) &+ 0x1234_5678)))
            var elbo = 0.0, iw = 0.0
            var start = 0
            while start < usable {
                let t = min(piece, usable - start)
                try s.bins.withUnsafeBufferPointer { all in
                    let codes = UnsafeBufferPointer(rebasing: all[start..<(start + t)])
                    elbo += try objective.logRatio(codes: codes, batch: 1, length: t, rng: &rng)[0]
                    if k > 0 {
                        var draws: [Double] = []
                        for _ in 0..<k { draws.append(try objective.logRatio(codes: codes, batch: 1, length: t, rng: &rng)[0]) }
                        iw += logMeanExp(draws)
                    }
                }
                start += t
            }
            files.append(FileResult(name: s.name, samples: usable, elboBitsPerSample: Objective.bitsPerSample(nats: elbo, samples: usable),
                                    iwboBitsPerSample: k > 0 ? Objective.bitsPerSample(nats: iw, samples: usable) : nil))
            totalElbo += elbo
            totalIw += iw
            total += usable
        }
        guard total > 0 else { throw DequantizationError.noUsableData(reason: "no sequence has \(g) samples to score") }
        return Result(files: files, samples: total, elboBitsPerSample: Objective.bitsPerSample(nats: totalElbo, samples: total),
                      iwboBitsPerSample: k > 0 ? Objective.bitsPerSample(nats: totalIw, samples: total) : nil, importanceSamples: k,
                      method: model.method.rawValue, skipped: skipped)
    }

    /// log((1/k) Σ exp(a_j)), stable: m + log(Σ exp(a_j − m)) − log k.
    public static func logMeanExp(_ a: [Double]) -> Double {
        guard let m = a.max(), m.isFinite else { return a.max() ?? -.infinity }
        return m + log(a.reduce(0) { $0 + exp($1 - m) }) - log(Double(a.count))
    }
}
