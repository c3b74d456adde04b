@testable import FlowEngine
import Foundation
import Testing

/// The variational dequantizer: layout, log q against a brute-force Jacobian, the exact-uniform
/// start with a logistic base, inversion of its couplings, and finite-difference gradients.
@Suite struct NoiseFlowTests {
    /// Random (non-zero) last layers, so the couplings are not the identity.
    static func randomize(_ f: NoiseFlow, seed: UInt64 = 0) {
        for (i, c) in f.couplings.enumerated() {
            c.convs[3].weight.value = randomArray(c.convs[3].weight.count, seed: 300 &+ seed &+ UInt64(i), scale: 0.3)
            c.convs[3].bias.value = randomArray(2, seed: 400 &+ seed &+ UInt64(i), scale: 0.3)
        }
    }

    /// The code-steps flow of `codeStepsConditionQ` (K = 16), its first layers' weights random.
    static func codeStepsFlow(seed: UInt64, firstLayerSeed: UInt64, lastLayerSeed: UInt64 = 0) throws -> NoiseFlow {
        let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 5, base: .standardLogistic, codeSteps: 8), seed: seed)
        randomize(f, seed: lastLayerSeed)
        for cp in f.couplings { cp.convs[0].weight.value = randomArray(cp.convs[0].weight.count, seed: firstLayerSeed, scale: 0.6) }
        return f
    }

    /// Gradient check of every parameter for L = wu·u + wl·log q, wu and eps from their seeds.
    static func gradientResult(_ f: NoiseFlow, batch B: Int, length T: Int, epsSeed: UInt64, weightSeed: UInt64,
                               logqWeights wl: [Float], maxPerProbe: Int, checkSeed: UInt64 = 99) throws -> GradientCheck.Result {
        let c = condition(batch: B, length: T)
        let eps = randomArray(B * T, seed: epsSeed, scale: 0.8)
        let wu = randomArray(B * T, seed: weightSeed)
        f.zeroGradients()
        _ = try f.forward(eps: eps, condition: c, batch: B)
        try f.backward(dU: wu, dLogq: wl)
        return try GradientCheck(maxPerProbe: maxPerProbe, seed: checkSeed).run(f.parameters.map(GradientCheck.probe)) {
            let (u, lq) = try f.forward(eps: eps, condition: c, batch: B)
            return dot(wu, u) + dot(wl, lq)
        }
    }

    /// `gradientResult` with its expectations, and a backward after the check consumes its last
    /// forward; returns the number of entries checked.
    static func checkGradients(_ f: NoiseFlow, batch B: Int, length T: Int, epsSeed: UInt64, weightSeed: UInt64,
                               logqWeights wl: [Float], maxPerProbe: Int) throws -> Int {
        let r = try gradientResult(f, batch: B, length: T, epsSeed: epsSeed, weightSeed: weightSeed, logqWeights: wl, maxPerProbe: maxPerProbe)
        r.expectClean()
        let wu = randomArray(B * T, seed: weightSeed)
        // consumes the last forward of the check; a second backward has no forward
        try f.backward(dU: wu, dLogq: wl)
        #expect(throws: FlowEngineError.backwardWithoutForward("NoiseFlow")) { try f.backward(dU: wu, dLogq: wl) }
        return r.checked
    }

    /// Codes of a toy K = 16 signal scaled to [-1, 1).
    static func condition(batch: Int, length: Int) -> [Float] {
        (0..<(batch * length)).map { Float(($0 * 7 + $0 / 3) % 16) * (2 / 16) - 1 }
    }

    @Test func architectureMatchesReference() throws {
        let f = try NoiseFlow(seed: 0)
        // Per layer: (3*32*3+32) + 2 * (32*32*3+32) + (32*2+2), as torch's Dequantizer.
        #expect(f.parameterCount == 4 * (320 + 3104 + 3104 + 66))
        #expect(f.couplings.map(\.parity) == [0, 1, 0, 1])
        #expect(f.couplings[1].convs[2].dilation == 4 && f.couplings[1].convs[3].kernelSize == 1)
    }

    @Test func logisticBaseStartsUniformWithZeroLogQ() throws {
        let f = try NoiseFlow(configuration: .init(base: .standardLogistic), seed: 1)
        let B = 2, T = 16
        var rng = SplitMix64(seed: 5)
        var eps = [Float](repeating: 0, count: B * T)
        eps.withUnsafeMutableBufferPointer { f.drawBaseNoise($0.baseAddress!, count: B * T, rng: &rng) }
        let (u, logq) = try f.forward(eps: eps, condition: Self.condition(batch: B, length: T), batch: B)
        // u[b, 2t + h] = sigmoid(eps[b, h, t])
        for b in 0..<B { for h in 0..<2 { for t in 0..<(T / 2) {
            #expect(abs(u[b * T + 2 * t + h] - Pointwise.sigmoid(eps[(b * 2 + h) * (T / 2) + t])) < 1e-6)
        } } }
        for l in logq { #expect(abs(l) < 1e-4) }
    }

    @Test(arguments: [BaseDistribution.standardNormal, .standardLogistic])
    func logQMatchesBruteForce(base: BaseDistribution) throws {
        let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 6, base: base), seed: 2)
        Self.randomize(f)
        let T = 16
        let c = Self.condition(batch: 1, length: T)
        let eps = randomArray(T, seed: 6, scale: 0.8)
        let (_, logq) = try f.forward(eps: eps, condition: c, batch: 1)
        var logBase = [Float](repeating: 0, count: 1)
        eps.withUnsafeBufferPointer { base.addLogProb($0.baseAddress!, batch: 1, itemCount: T, into: &logBase) }
        let logDet = try bruteForceLogAbsDet(eps) { try f.forward(eps: $0, condition: c, batch: 1).u }
        #expect(abs(Double(logBase[0]) - logDet - Double(logq[0])) < 2e-3 * max(1, abs(logDet)), "\(logBase[0]) - \(logDet) vs \(logq[0])")
    }

    @Test func couplingInverts() throws {
        let cp = try ConditionalCoupling(name: "c", parity: 1, hidden: 5, seed: 3)
        cp.convs[3].weight.value = randomArray(cp.convs[3].weight.count, seed: 4, scale: 0.5)
        let shape = Shape(batch: 2, channels: 2, time: 8)
        let x = randomArray(shape.count, seed: 5), c = randomArray(shape.count, seed: 6)
        var y = x, back = x, ld: [Float] = [0, 0]
        try cp.forward(x, condition: c, &y, shape: shape, logDet: &ld)
        #expect(y != x)
        for b in 0..<2 { for t in 0..<8 { #expect(y[(b * 2 + 1) * 8 + t] == x[(b * 2 + 1) * 8 + t]) } }  // parity 1 keeps odd
        try cp.inverse(y, condition: c, &back, shape: shape)
        for i in x.indices { #expect(abs(back[i] - x[i]) < 1e-5) }
    }

    @Test func gradientsOfParameters() throws {
        let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 5), seed: 7)
        Self.randomize(f)
        #expect(try Self.checkGradients(f, batch: 2, length: 16, epsSeed: 8, weightSeed: 9, logqWeights: [0.6, -0.9], maxPerProbe: 5) > 50)
    }

    /// Context levels: coupling pairs cycle through dilation scales 1, 4, 16 …; the receptive
    /// field adds up over the couplings; the reference (C = 1) keeps its file layout.
    @Test func contextLevelsWidenTheDilations() throws {
        let ref = try NoiseFlow(seed: 0)
        #expect(ref.configuration.receptiveField == 56)
        #expect(ref.architecture["contextLevels"] == nil)
        let wide = try NoiseFlow(configuration: .init(layers: 8, hidden: 4, contextLevels: 3), seed: 0)
        #expect(wide.couplings.map(\.dilationScale) == [1, 1, 4, 4, 16, 16, 1, 1])
        #expect(wide.couplings[4].convs.prefix(3).map(\.dilation) == [16, 32, 64])
        #expect(wide.configuration.receptiveField == 14 * (1 + 1 + 4 + 4 + 16 + 16 + 1 + 1))
        #expect(wide.architecture["contextLevels"] == 3)
        #expect(throws: FlowEngineError.self) { try NoiseFlow(configuration: .init(contextLevels: 0), seed: 0) }
        // the output at t depends on eps exactly within the receptive field (one side shown)
        let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 4, contextLevels: 2), seed: 3)
        Self.randomize(f)
        let T = 512, rf = f.configuration.receptiveField   // 14 * (1 + 1 + 4 + 4) = 140
        let c = Self.condition(batch: 1, length: T)
        var eps = randomArray(T, seed: 4, scale: 0.8)
        let u0 = try f.forward(eps: eps, condition: c, batch: 1).u
        // eps is (2, T/2): even half then odd half; perturb the even sample at time 2·j
        let j = (T / 2 + rf / 2) / 2 + 20
        eps[j] += 0.5
        let u1 = try f.forward(eps: eps, condition: c, batch: 1).u
        let changed = (0..<T).filter { u0[$0] != u1[$0] }
        #expect(!changed.isEmpty)
        #expect(changed.allSatisfy { abs($0 - 2 * j) <= rf + 1 }, "changes reach \(changed.first!)...\(changed.last!) around \(2 * j), field \(rf)")
        #expect(changed.contains { abs($0 - 2 * j) > rf / 2 })   // and do reach far: the context is used
    }

    @Test func gradientsWithContextLevels() throws {
        let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 5, base: .standardLogistic, contextLevels: 2), seed: 7)
        Self.randomize(f)
        #expect(try Self.checkGradients(f, batch: 1, length: 32, epsSeed: 12, weightSeed: 13, logqWeights: [0.7], maxPerProbe: 4) > 40)
    }

    /// Code steps: q's output depends on them (a code step changes u even where c barely moves),
    /// log q still matches the brute-force Jacobian, and the gradients pass the harness.
    @Test func codeStepsConditionQ() throws {
        let K = 16
        let f = try Self.codeStepsFlow(seed: 21, firstLayerSeed: 31)
        #expect(f.couplings.allSatisfy { $0.conditionChannels == 4 && $0.convs[0].inChannels == 5 })
        #expect(f.architecture["codeSteps"] == K / 2 && f.configuration.receptiveField == 57)
        let T = 16
        let c = Self.condition(batch: 1, length: T)
        let eps = randomArray(T, seed: 22, scale: 0.8)
        let (_, logq) = try f.forward(eps: eps, condition: c, batch: 1)
        // With the codes' own input weights zeroed, q sees the codes only through the steps:
        // raising one code by one bin (c moves by 2/K) still changes u.
        let saved = f.couplings.map { $0.convs[0].weight.value }
        for cp in f.couplings {
            let w = cp.convs[0].weight   // (hidden, 1 + 4, 3): inputs [z, c even, c odd, d even, d odd]
            for o in 0..<cp.hidden { for i in 1...2 { for k in 0..<3 { w.value[(o * 5 + i) * 3 + k] = 0 } } }
        }
        var c2 = c
        c2[7] += 2 / Float(K)
        let (u1, _) = try f.forward(eps: eps, condition: c, batch: 1)
        let (u2, _) = try f.forward(eps: eps, condition: c2, batch: 1)
        #expect(u1 != u2)
        let plain = try NoiseFlow(configuration: .init(layers: 4, hidden: 5, base: .standardLogistic), seed: 21)
        for (a, b) in zip(plain.couplings, f.couplings) {
            for (pa, pb) in zip(a.convs.dropFirst(), b.convs.dropFirst()) { for (x, y) in zip(pa.parameters, pb.parameters) { x.value = y.value } }
            let w = a.convs[0].weight   // (hidden, 3, 3): [z, c even, c odd], the codes' weights zero too
            for o in 0..<a.hidden { for k in 0..<3 { w.value[(o * 3) * 3 + k] = b.convs[0].weight.value[(o * 5) * 3 + k] } }
            for o in 0..<a.hidden { for i in 1...2 { for k in 0..<3 { w.value[(o * 3 + i) * 3 + k] = 0 } } }
            a.convs[0].bias.value = b.convs[0].bias.value
        }
        // the same q without the step channels cannot tell the two codes apart
        #expect(try plain.forward(eps: eps, condition: c, batch: 1).u == plain.forward(eps: eps, condition: c2, batch: 1).u)
        for (cp, w) in zip(f.couplings, saved) { cp.convs[0].weight.value = w }
        var logBase = [Float](repeating: 0, count: 1)
        eps.withUnsafeBufferPointer { BaseDistribution.standardLogistic.addLogProb($0.baseAddress!, batch: 1, itemCount: T, into: &logBase) }
        let logDet = try bruteForceLogAbsDet(eps) { try f.forward(eps: $0, condition: c, batch: 1).u }
        #expect(abs(Double(logBase[0]) - logDet - Double(logq[0])) < 2e-3 * max(1, abs(logDet)))
        #expect(try Self.checkGradients(f, batch: 1, length: T, epsSeed: 22, weightSeed: 23, logqWeights: [0.5], maxPerProbe: 4) > 40)
        #expect(throws: FlowEngineError.self) { try plain.load(f.checkpoint()) }   // 3 condition inputs, not 5
    }

    @Test func checkpointRoundTrip() throws {
        let a = try NoiseFlow(configuration: .init(layers: 2, hidden: 4), seed: 1)
        Self.randomize(a)
        let b = try NoiseFlow(configuration: .init(layers: 2, hidden: 4), seed: 2)
        try b.load(Checkpoint.decode(a.checkpoint().encoded()))
        #expect(zip(a.parameters, b.parameters).allSatisfy { $0.value == $1.value })
        let other = try NoiseFlow(configuration: .init(layers: 2, hidden: 4, base: .standardLogistic), seed: 1)
        #expect(throws: FlowEngineError.self) { try other.load(a.checkpoint()) }
        let wider = try NoiseFlow(configuration: .init(layers: 2, hidden: 4, contextLevels: 2), seed: 1)
        #expect(throws: FlowEngineError.self) { try wider.load(a.checkpoint()) }
    }
}
