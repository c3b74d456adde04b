import Foundation
import Testing
@testable import Dequantization
import DiscreteAudio
import FlowEngine

/// The objective in true cells (issue #12): v is the scaled point of each code's cell and the
/// width term W = Σ log(w/S) joins the log-determinant.
struct CellObjectiveTests {
    static func model() throws -> DequantModel {
        try DequantModel(flow: .init(squeeze: 4, steps: 2, hidden: 8, kernelSize: 3), noise: nil,
                         encoding: .ulaw, sampleRate: 8000, seed: 3)
    }

    /// μ-law bytes in the linear domain: the log-ratio is log p(v) + W with v and W computed by
    /// hand from `G711Cells` (not through `SequenceCells`), and W matches `CellWidthTerm`; the
    /// same codes in container cells give log p(v') − T·log 256 with v' = (x + u)/256 − ½. The
    /// uniform u of both runs is the same stream, so the difference of the two log-ratios is the
    /// difference of the two flow terms plus W + T·log 256, computed independently.
    @Test func linearMuLawCellsAddTheWidthTerm() throws {
        let model = try Self.model()
        let objective = Objective(model: model)
        let t = 64
        let codes: [UInt32] = (0..<t).map { UInt32(($0 * 37 + 11) % 256) }
        let q = try Quantizer.g711Linear(.ulaw, container: .ulaw)
        var warm = SplitMix64(seed: 1)
        _ = try codes.withUnsafeBufferPointer { try objective.logRatio(codes: $0, batch: 1, length: t, rng: &warm) }  // ActNorm init
        var rng = SplitMix64(seed: 9), rng2 = rng
        let linear = try codes.withUnsafeBufferPointer {
            try objective.logRatio(codes: $0, cells: [SequenceCells(q)], batch: 1, length: t, rng: &rng)[0]
        }
        let container = try codes.withUnsafeBufferPointer {
            try objective.logRatio(codes: $0, cells: nil, batch: 1, length: t, rng: &rng2)[0]
        }
        // by hand
        var r = SplitMix64(seed: 9)
        let u = (0..<t).map { _ in min(Float(r.nextUniform()), Float(1).nextDown) }
        let cells = G711Cells.of(.ulaw)
        var v = [Float](repeating: 0, count: t), vc = v
        var w = 0.0
        for i in 0..<t {
            let b = Int(codes[i]), lo = Double(cells.bounds[b]), hi = Double(cells.bounds[b + 1])
            v[i] = Float((lo + 32768 + Double(u[i]) * (hi - lo)) / 65536 - 0.5)
            vc[i] = (Float(codes[i]) + u[i]) / 256 - 0.5
            w += log((hi - lo) / 65536)
        }
        let widthTerm = try #require(codes.withUnsafeBufferPointer { CellWidthTerm(quantizer: q).nats(bins: $0) })
        #expect(abs(w - widthTerm) < 1e-9 * abs(w))
        var logp = [Float](repeating: 0, count: 1), logpc = logp
        try model.flow.forward(v, batch: 1, length: t, logp: &logp)
        try model.flow.forward(vc, batch: 1, length: t, logp: &logpc)
        #expect(abs(linear - (Double(logp[0]) + w)) < 1e-6 * abs(linear))
        #expect(container == Double(logpc[0]) - Double(t) * log(256))
        let expected = (Double(logp[0]) - Double(logpc[0])) + w + Double(t) * log(256)
        #expect(abs((linear - container) - expected) < 1e-6 * abs(linear))
    }

    /// One scale for μ-law bytes in the linear domain and 16-bit PCM holding the expanded values:
    /// the same log-ratio to the bit (codes off the two zero cells, which PCM merges), and the same
    /// for an 8-bit recording in a 16-bit container (lattice 2^8) and the 8-bit file itself.
    @Test func sameCellsOnOneScaleGiveTheSameLogRatio() throws {
        let model = try Self.model()
        let objective = Objective(model: model)
        let t = 64
        let bytes: [UInt32] = (0..<t).map { i in let b = UInt32((i * 53 + 5) % 254); return b >= 127 ? b + 2 : b }
        let cells = G711Cells.of(.ulaw)
        let pcm = bytes.map { UInt32(Int(cells.levels[Int($0)]) + 32768) }
        var warm = SplitMix64(seed: 1)
        _ = try bytes.withUnsafeBufferPointer { try objective.logRatio(codes: $0, batch: 1, length: t, rng: &warm) }
        func ratio(_ codes: [UInt32], _ q: Quantizer) throws -> Double {
            var rng = SplitMix64(seed: 4)
            return try codes.withUnsafeBufferPointer { try objective.logRatio(codes: $0, cells: [SequenceCells(q)], batch: 1, length: t, rng: &rng)[0] }
        }
        let a = try ratio(bytes, .g711Linear(.ulaw, container: .ulaw))
        let b = try ratio(pcm, .g711Linear(.ulaw, container: .pcm16))
        #expect(a == b)
        let eight: [UInt32] = (0..<t).map { UInt32(($0 * 29 + 3) % 256) }
        let c = try ratio(eight, .container(.pcmU8))
        let d = try ratio(eight.map { $0 << 8 }, .lattice(.pcm16, stepLog2: 8))
        #expect(c == d)
        #expect(try ratio(eight, .container(.pcmU8)) == {
            var rng = SplitMix64(seed: 4)
            return try eight.withUnsafeBufferPointer { try objective.logRatio(codes: $0, batch: 1, length: t, rng: &rng)[0] }
        }())
    }
}

/// q's condition and code-step scale in true cells.
struct CellConditionTests {
    static func condition(_ codes: [UInt32], _ q: Quantizer) -> [Float] {
        var c = [Float](repeating: .nan, count: codes.count)
        codes.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { SequenceCells(q).condition(b.baseAddress!, count: codes.count, into: $0.baseAddress!) } }
        return c
    }

    /// μ-law and A-law in the linear domain give q the cell's lower end on the linear scale,
    /// 2·(lower + S/2)/S − 1, the same value for the law's bytes and for 16- and 24-bit PCM holding
    /// its levels (μ-law's merged zero cell is [−4, 4) in PCM: its lower end is the −0 cell's);
    /// a lattice gives 2x'/K' − 1 of its coarse code, the 8-bit file's condition.
    @Test func g711CellsConditionQOnTheLinearLowerEnd() throws {
        let bytes = (0..<256).map { UInt32($0) }
        for law in [SampleEncoding.ulaw, .alaw] {
            let bounds = G711Cells.of(law).bounds
            let expected = bytes.map { Float(2 * Double(Int(bounds[Int($0)]) + 32768) / 65536 - 1) }
            let q = try Quantizer.g711Linear(law, container: law)
            #expect(Self.condition(bytes, q) == expected)
            let levels = G711Cells.of(law).levels
            for (enc, m) in [(SampleEncoding.pcm16, 1), (.pcm24, 256)] {
                let pcm = bytes.map { UInt32(Int(levels[Int($0)]) * m + enc.binCount / 2) }
                var want = expected
                if law == .ulaw { want[128] = expected[127] }   // one zero cell, from the −0 cell's lower end
                let got = Self.condition(pcm, try .g711Linear(law, container: enc))
                #expect(got == want, "\(law) in \(enc)")
            }
        }
        let eight = (0..<256).map { UInt32($0) }
        #expect(try Self.condition(eight.map { $0 << 8 }, .lattice(.pcm16, stepLog2: 8)) == Self.condition(eight, .container(.pcmU8)))
    }

    /// q's code-step scale P/2 comes from the cells, not the container: 128 for μ-law in 16-bit
    /// PCM, K'/2 for a lattice, K/2 for container cells; the largest in a mixed corpus.
    @Test func codeStepScaleIsHalfTheCodeScale() throws {
        func corpus(_ qs: [Quantizer?], _ enc: SampleEncoding) -> Corpus {
            Corpus(encoding: enc, sampleRate: 8000, sequences: qs.enumerated().map { .init(name: "\($0.offset)", bins: [0], quantizer: $0.element) })
        }
        #expect(try corpus([.g711Linear(.ulaw, container: .pcm16)], .pcm16).codeStepScale == 128)
        #expect(try corpus([.lattice(.pcm16, stepLog2: 8)], .pcm16).codeStepScale == 128)
        #expect(try corpus([.lattice(.pcm16, stepLog2: 4)], .pcm16).codeStepScale == 2048)
        #expect(try corpus([nil], .pcm16).codeStepScale == 32768)
        #expect(try corpus([nil], .ulaw).codeStepScale == 128)
        #expect(try corpus([.lattice(.pcm16, stepLog2: 8), nil], .pcm16).codeStepScale == 32768)
    }
}
