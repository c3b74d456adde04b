@testable import FlowEngine
import Foundation
import Testing

/// The whole main flow: parameter layout, log-density against a brute-force Jacobian, exact
/// inversion, gradients w.r.t. every parameter tensor and the input, and a short training run.
@Suite struct WaveformFlowTests {
    static let small = WaveformFlow.Configuration(squeeze: 4, steps: 2, hidden: 6, kernelSize: 3)

    /// A small flow with non-trivial couplings (the zero-init last layers randomised).
    static func makeSmall(seed: UInt64 = 11, layerSeed: UInt64 = 0) throws -> WaveformFlow {
        let f = try WaveformFlow(configuration: small, seed: seed)
        for (i, c) in f.couplings.enumerated() {
            c.conv3.weight.value = randomArray(c.conv3.weight.count, seed: 100 &+ layerSeed &+ UInt64(i), scale: 0.3)
            c.conv3.bias.value = randomArray(c.conv3.bias.count, seed: 200 &+ layerSeed &+ UInt64(i), scale: 0.3)
        }
        return f
    }

    /// Gradient check of every parameter and the input for L = wl · log p(v), v from `inputSeed`
    /// (after one forward for the ActNorm data init).
    static func gradientResult(_ f: WaveformFlow, batch B: Int, length T: Int, inputSeed: UInt64, logpWeights wl: [Float],
                               checkSeed: UInt64 = 99) throws -> GradientCheck.Result {
        let vb = Box(randomArray(B * T, seed: inputSeed, scale: 0.5))
        _ = try f.forward(vb.values, batch: B)   // ActNorm data init happens here
        f.zeroGradients()
        _ = try f.forward(vb.values, batch: B)
        let dv = try f.backward(dLogp: wl)
        let probes = f.parameters.map(GradientCheck.probe) + [GradientCheck.probe("v", vb, analytic: dv)]
        return try GradientCheck(maxPerProbe: 6, seed: checkSeed).run(probes) {
            dot(wl, try f.forward(vb.values, batch: B))
        }
    }

    @Test func defaultArchitectureMatchesReference() throws {
        let f = try WaveformFlow(seed: 0)
        // Per step: ActNorm 2*8, W 8*8, convs (4*64*3+64) + (64*64*3+64) + (64*8*3+8); as torch's MainFlow.
        #expect(f.parameterCount == 6 * (16 + 64 + 832 + 12352 + 1544))
        #expect(f.parameterCount == 88848)
        let names = f.parameters.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.first == "step0.actnorm.bias" && names.last == "step5.coupling.conv3.bias")
        #expect(f.couplings[0].conv2.weight.shape == [64, 64, 3])
        #expect(f.couplings.allSatisfy { $0.conv3.weight.value.allSatisfy { $0 == 0 } })
        #expect(throws: FlowEngineError.self) { _ = try f.forward([Float](repeating: 0, count: 20), batch: 1) }
        #expect(throws: FlowEngineError.self) { _ = try WaveformFlow(configuration: .init(squeeze: 1), seed: 0) }
    }

    @Test func seededInitIsReproducible() throws {
        let a = try WaveformFlow(configuration: Self.small, seed: 5), b = try WaveformFlow(configuration: Self.small, seed: 5)
        let c = try WaveformFlow(configuration: Self.small, seed: 6)
        #expect(zip(a.parameters, b.parameters).allSatisfy { $0.value == $1.value })
        #expect(!zip(a.parameters, c.parameters).allSatisfy { $0.value == $1.value })
    }

    @Test func logDensityMatchesBruteForceAndInverts() throws {
        let f = try Self.makeSmall()
        let T = 16
        let v = randomArray(2 * T, seed: 3, scale: 0.5)
        let logp = try f.forward(v, batch: 2)
        let z = try f.latent()
        let back = try f.inverse(z, batch: 2)
        for i in v.indices { #expect(abs(back[i] - v[i]) < 1e-4) }

        // Item 0 alone: log N(z) + log|det dz/dv| from a finite-difference Jacobian.
        let v0 = Array(v[0..<T])
        let lp0 = try f.forward(v0, batch: 1)[0]
        #expect(abs(lp0 - logp[0]) < 1e-4 * max(1, abs(lp0)))
        let z0 = try f.latent()
        let logN = z0.reduce(0.0) { $0 - 0.5 * Double($1) * Double($1) - 0.5 * Foundation.log(2 * Double.pi) }
        let logDet = try bruteForceLogAbsDet(v0) { vv in _ = try f.forward(vv, batch: 1); return try f.latent() }
        #expect(abs(logN + logDet - Double(lp0)) < 2e-3 * max(1, abs(Double(lp0))), "\(logN + logDet) vs \(lp0)")
    }

    @Test func gradientsOfParametersAndInput() throws {
        let r = try Self.gradientResult(Self.makeSmall(), batch: 2, length: 16, inputSeed: 4, logpWeights: [0.7, -1.3])
        r.expectClean()
        #expect(r.checked > 60)
    }

    @Test func workersGiveTheSameResults() throws {
        let one = try Self.makeSmall(), two = try Self.makeSmall()
        two.workers = 2
        #expect(two.workers == 2)
        let v = randomArray(3 * 16, seed: 12, scale: 0.5)
        let lp1 = try one.forward(v, batch: 3), lp2 = try two.forward(v, batch: 3)
        #expect(lp1 == lp2)
        let dv1 = try one.backward(dLogp: [1, -1, 0.5]), dv2 = try two.backward(dLogp: [1, -1, 0.5])
        #expect(dv1 == dv2)
        for (p, q) in zip(one.parameters, two.parameters) {
            for i in p.grad.indices { #expect(abs(p.grad[i] - q.grad[i]) <= 1e-5 * max(1, abs(p.grad[i]))) }
        }
    }

    @Test func gradientsAccumulateAndBackwardNeedsForward() throws {
        let f = try Self.makeSmall()
        let v = randomArray(32, seed: 9, scale: 0.5)
        _ = try f.forward(v, batch: 2)
        _ = try f.backward(dLogp: [1, 1])
        let g1 = f.parameters.map(\.grad)
        _ = try f.forward(v, batch: 2)
        _ = try f.backward(dLogp: [1, 1])
        for (p, g) in zip(f.parameters, g1) { for i in g.indices { #expect(abs(p.grad[i] - 2 * g[i]) <= 1e-4 * max(1, abs(g[i]))) } }
        #expect(throws: FlowEngineError.backwardWithoutForward("WaveformFlow")) { _ = try f.backward(dLogp: [1, 1]) }
    }

    @Test func shortTrainingRunLowersTheLoss() throws {
        // Correlated toy signal: the flow should beat its initial bits/sample within a few Adam steps.
        let f = try WaveformFlow(configuration: .init(squeeze: 4, steps: 2, hidden: 8), seed: 1)
        let adam = try Adam(parameters: f.parameters, options: .init(learningRate: 3e-3))
        let B = 4, T = 64
        var rng = SplitMix64(seed: 2)
        var v = [Float](repeating: 0, count: B * T)
        for b in 0..<B { var s = 0.0; for t in 0..<T { s = 0.9 * s + 0.1 * rng.nextGaussian(); v[b * T + t] = Float(s) } }
        let g = [Float](repeating: -1 / Float(B * T), count: B)
        var losses: [Float] = []
        for _ in 0..<30 {
            f.zeroGradients()
            let lp = try f.forward(v, batch: B)
            losses.append(-lp.reduce(0, +) / Float(B * T))
            _ = try f.backward(dLogp: g)
            adam.step()
        }
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(losses.last! < losses.first! - 0.1, "\(losses.first!) -> \(losses.last!)")
    }
}
