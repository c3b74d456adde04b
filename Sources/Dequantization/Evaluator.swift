import Foundation
import DiscreteAudio
import FlowEngine

/// Held-out bits per sample, as the reference scores them: each sequence is one sequence of its
/// first ⌊n/g⌋·g samples (g = the model's length granularity); sequences longer than
/// `maxLength` are scored in consecutive pieces of at most that length (bounded memory).
/// bits/sample = −Σ log-ratio / (ln 2 · Σ scored samples) (`Objective.bitsPerSample`). With k importance samples the bound
/// log (1/k) Σ exp(log-ratio_j) is computed in Double (log-sum-exp), from k draws separate from
/// the ELBO's draw. ELBO ≤ IWBO(k) ≤ log P(x) in expectation. The same k draws also give the
/// ELBO again as their mean (`elboMeanBitsPerSample`): the same bound as the one-draw ELBO, with
/// 1/k of its Monte Carlo variance, and never below IWBO(k) in bits (mean ≤ log-mean-exp).
///
/// Each sequence is dequantized into its own quantizer's cells (`Corpus.Sequence.quantizer`), so
/// every bound includes the cells' width term W = Σ log(w_j/S) (`SequenceCells`): the figures are
/// bounds on −log2 P(codes) whatever the cells. `widthBitsPerSample` is W's share, −W/(T·ln 2).
public enum Evaluator {
    public struct FileResult: Codable, Sendable {
        public var name: String
        public var samples: Int
        public var elboBitsPerSample: Double
        public var iwboBitsPerSample: Double?
        /// The ELBO as the mean over the k importance draws (nil without them).
        public var elboMeanBitsPerSample: Double?
        /// The cells the file was dequantized into (`QuantizerChoice` spelling) and their
        /// `Quantizer.description`.
        public var quantizer: String
        public var quantizerName: String
        /// W's share of the bound, −W/(T·ln 2) (16 for 16-bit container cells, 8 on a 2^8 lattice).
        public var widthBitsPerSample: Double
    }

    public struct Result: Codable, Sendable {
        public var files: [FileResult]
        public var samples: Int
        public var elboBitsPerSample: Double
        public var iwboBitsPerSample: Double?
        /// The ELBO as the mean over the k importance draws of every file (nil without them).
        public var elboMeanBitsPerSample: Double?
        public var importanceSamples: Int
        public var method: String
        public var skipped: Int
        /// W's share of the totals, −Σ W/(ln 2 · Σ T).
        public var widthBitsPerSample: Double
    }

    public static func evaluate(model: DequantModel, corpus: Corpus, importanceSamples k: Int = 0, seed: UInt64 = 0,
                                maxLength: Int = 1 << 20, threads: Int = 2) throws -> Result {
        try FlowInput.requireSame(model: model.input, data: corpus.input, path: "evaluation data")
        try BLAS.ensureLoaded()
        BLAS.setThreads(1)
        model.flow.workers = max(1, threads)
        model.noise?.workers = max(1, threads)
        let objective = Objective(model: model)
        let g = model.lengthMultiple
        let piece = max(g, maxLength / g * g)
        var files: [FileResult] = []
        var totalElbo = 0.0, totalIw = 0.0, totalMean = 0.0, totalWidth = 0.0, total = 0, skipped = 0
        let placements = corpus.placements(corpus.sequences)
        for (fi, s) in corpus.sequences.enumerated() {
            let usable = s.bins.count / g * g
            if usable == 0 { skipped += 1; continue }
            var rng = SplitMix64(seed: CounterRNG.mix(seed ^ CounterRNG.mix(UInt64(fi) &+ 0x1234_5678)))
            var elbo = 0.0, iw = 0.0, mean = 0.0
            let cells = [placements[fi]]
            let width = s.bins.withUnsafeBufferPointer { placements[fi].widthTerm(UnsafeBufferPointer(rebasing: $0[..<usable])) }
            var start = 0
            while start < usable {
                let t = min(piece, usable - start)
                try s.bins.withUnsafeBufferPointer { all in
                    let codes = UnsafeBufferPointer(rebasing: all[start..<(start + t)])
                    elbo += try objective.logRatio(codes: codes, cells: cells, batch: 1, length: t, rng: &rng)[0]
                    if k > 0 {
                        var draws: [Double] = []
                        for _ in 0..<k { draws.append(try objective.logRatio(codes: codes, cells: cells, batch: 1, length: t, rng: &rng)[0]) }
                        iw += logMeanExp(draws)
                        mean += draws.reduce(0, +) / Double(k)
                    }
                }
                start += t
            }
            files.append(FileResult(name: s.name, samples: usable, elboBitsPerSample: Objective.bitsPerSample(nats: elbo, samples: usable),
                                    iwboBitsPerSample: k > 0 ? Objective.bitsPerSample(nats: iw, samples: usable) : nil,
                                    elboMeanBitsPerSample: k > 0 ? Objective.bitsPerSample(nats: mean, samples: usable) : nil,
                                    quantizer: QuantizerChoice(corpus.quantizer(of: s)).description,
                                    quantizerName: corpus.quantizer(of: s).description,
                                    widthBitsPerSample: Objective.bitsPerSample(nats: width, samples: usable)))
            totalElbo += elbo
            totalWidth += width
            totalIw += iw
            totalMean += mean
            total += usable
        }
        guard total > 0 else { throw DequantizationError.noUsableData(reason: "no sequence has \(g) samples to score") }
        return Result(files: files, samples: total, elboBitsPerSample: Objective.bitsPerSample(nats: totalElbo, samples: total),
                      iwboBitsPerSample: k > 0 ? Objective.bitsPerSample(nats: totalIw, samples: total) : nil,
                      elboMeanBitsPerSample: k > 0 ? Objective.bitsPerSample(nats: totalMean, samples: total) : nil, importanceSamples: k,
                      method: model.method.rawValue, skipped: skipped,
                      widthBitsPerSample: Objective.bitsPerSample(nats: totalWidth, samples: total))
    }

    /// log((1/k) Σ exp(a_j)), stable: m + log(Σ exp(a_j − m)) − log k.
    public static func logMeanExp(_ a: [Double]) -> Double {
        guard let m = a.max(), m.isFinite else { return a.max() ?? -.infinity }
        return m + log(a.reduce(0) { $0 + exp($1 - m) }) - log(Double(a.count))
    }
}
