import Foundation
import Testing
import DiscreteAudio
import FlowEngine
@testable import Dequantization

/// Dequantization as a transform: (v, logDet) with v = (x + u)/K − ½ and
/// logDet = −T·log K − log q(u | x), and the objective log p(v) + logDet for both methods.
@Suite struct DequantizationTransformTests {
    static let batch = 2, length = 32

    static func codes(_ k: Int) -> [UInt32] {
        (0..<(batch * length)).map { UInt32((k / 2 + Int(Double(k) * 0.3 * sin(Double($0) / 3))) & (k - 1)) }
    }

    static func model(_ method: DequantMethod) throws -> DequantModel {
        let model = try DequantModel(flow: .init(squeeze: 4, steps: 2, hidden: 8, kernelSize: 3),
                                     noise: method == .variational ? .init(layers: 2, hidden: 8, base: .standardLogistic) : nil,
                                     encoding: .pcmU8, sampleRate: 8000, seed: 3)
        // non-zero output layers, so q is not the identity on the base noise
        var jitter = SplitMix64(seed: 5)
        for p in model.parameters { for i in 0..<p.count { p.value[i] += Float(jitter.nextUniform() - 0.5) * 0.2 } }
        return model
    }

    /// The variational transform's logDet is −T·log K − Σ_t log q_t with the per-sample terms of
    /// q (`logQPerSample`, a separate computation from q's per-item sum) and its v is
    /// (x + u)/K − ½ for the u of q's flow run directly on the same base noise.
    @Test func variationalLogDetIsJacobianMinusSummedLogQ() throws {
        let model = try Self.model(.variational)
        let noise = model.noise!
        let transform = VariationalDequantizationTransform(noise: noise, binCount: 256)
        let (b, t) = (Self.batch, Self.length)
        let codes = Self.codes(256)
        var v = [Float](repeating: 0, count: b * t), logDet = [Double](repeating: 0, count: b)
        var rng = SplitMix64(seed: 21)
        try codes.withUnsafeBufferPointer { c in
            try transform.forward(codes: c, batch: b, length: t, rng: &rng, v: &v, logDet: &logDet)
        }
        var perSample = [Float](repeating: 0, count: b * t)
        try noise.logQPerSample(&perSample)
        // q run by hand on the same draws
        var replay = SplitMix64(seed: 21)
        var eps = [Float](repeating: 0, count: b * t)
        noise.drawBaseNoise(&eps, count: b * t, rng: &replay)
        let condition = codes.map { Float($0) * (2 / 256) - 1 }
        var u = [Float](repeating: 0, count: b * t), logq = [Float](repeating: 0, count: b)
        try noise.forward(eps: eps, condition: condition, batch: b, length: t, u: &u, logq: &logq)
        for s in 0..<b {
            let sum = perSample[(s * t)..<((s + 1) * t)].reduce(0.0) { $0 + Double($1) }
            let expected = -Double(t) * log(256.0) - sum
            #expect(abs(logDet[s] - expected) < 1e-4 * abs(expected), "sequence \(s): \(logDet[s]) vs \(expected)")
            #expect(logDet[s] == -Double(t) * log(256.0) - Double(logq[s]))
            #expect(sum != 0, "the test needs a q with log q ≠ 0")
        }
        for i in 0..<(b * t) { #expect(v[i] == (Float(codes[i]) + u[i]) * (1 / 256) - 0.5) }
        #expect(rng.next() == replay.next(), "the transform draws exactly q's base noise")
    }

    /// Uniform: logDet is exactly −T·log K, v is (x + u)/K − ½ with u the next uniform draws in
    /// order (kept below 1), on a hand-built case (K = 4, T = 4).
    @Test func uniformLogDetIsTheJacobianOnly() throws {
        let transform = UniformDequantizationTransform(binCount: 4)
        let codes: [UInt32] = [0, 3, 1, 2, 2, 1, 3, 0]
        var v = [Float](repeating: 0, count: 8), logDet = [Double](repeating: 0, count: 2)
        var rng = SplitMix64(seed: 4)
        try codes.withUnsafeBufferPointer { try transform.forward(codes: $0, batch: 2, length: 4, rng: &rng, v: &v, logDet: &logDet) }
        #expect(logDet == [-4 * log(4.0), -4 * log(4.0)])
        var replay = SplitMix64(seed: 4)
        for i in 0..<8 {
            let u = Float(replay.nextUniform())
            #expect(v[i] == (Float(codes[i]) + u) / 4 - 0.5)
            #expect(v[i] >= Float(codes[i]) / 4 - 0.5 && v[i] < Float(codes[i] + 1) / 4 - 0.5)
        }
    }

    /// Both methods give the objective by one formula: log p(v) − T·log K − log q(u | x)
    /// (uniform: log q = 0), with v, log q and log p computed here from the pieces (the same
    /// draws replayed, p's forward called directly), and the loss is −mean/(T ln 2).
    @Test(arguments: [DequantMethod.uniform, .variational])
    func objectiveIsLogPPlusLogDetForBothMethods(_ method: DequantMethod) throws {
        let model = try Self.model(method)
        let (b, t) = (Self.batch, Self.length)
        let codes = Self.codes(256)
        let objective = Objective(model: model)
        var warm = SplitMix64(seed: 1)
        _ = try codes.withUnsafeBufferPointer { try objective.logRatio(codes: $0, batch: b, length: t, rng: &warm) }  // ActNorm init
        var rng = SplitMix64(seed: 8)
        let ratios = try codes.withUnsafeBufferPointer { try objective.logRatio(codes: $0, batch: b, length: t, rng: &rng) }
        var replay = SplitMix64(seed: 8)
        var u = [Float](repeating: 0, count: b * t), logq = [Float](repeating: 0, count: b)
        if let noise = model.noise {
            var eps = [Float](repeating: 0, count: b * t)
            noise.drawBaseNoise(&eps, count: b * t, rng: &replay)
            try noise.forward(eps: eps, condition: codes.map { Float($0) * (2 / 256) - 1 }, batch: b, length: t, u: &u, logq: &logq)
        } else {
            for i in 0..<(b * t) { u[i] = min(Float(replay.nextUniform()), Float(1).nextDown) }
        }
        let v = (0..<(b * t)).map { (Float(codes[$0]) + u[$0]) * (1 / 256) - 0.5 }
        var logp = [Float](repeating: 0, count: b)
        try model.flow.forward(v, batch: b, length: t, logp: &logp)
        for s in 0..<b {
            let expected = Double(logp[s]) - Double(t) * log(256.0) - Double(logq[s])
            #expect(abs(ratios[s] - expected) <= 1e-12 * abs(expected), "\(method) sequence \(s)")
        }
        var lossRng = SplitMix64(seed: 8)
        let loss = try codes.withUnsafeBufferPointer { try objective.lossAndGradients(codes: $0, batch: b, length: t, rng: &lossRng) }
        let mean = ratios.reduce(0, +) / Double(b)
        #expect(abs(loss - -mean / (Double(t) * M_LN2)) < 1e-12 * abs(loss))
    }

    @Test func bitsPerSampleIsNegativeNatsOverSamplesLn2() {
        #expect(Objective.bitsPerSample(nats: -8 * 100 * M_LN2, samples: 100) == 8)
        #expect(Objective.bitsPerSample(nats: 0, samples: 5) == 0)
    }
}
