@testable import FlowEngine
import Foundation
import Testing

/// Every gradient-check configuration of the FlowEngine tests, at a random point per seed: model
/// initialisation, randomised layers, inputs, output weights and the checked entries all drawn
/// from the seed. The weights of the log-densities stay those of the fixed tests: the float32
/// rounding of a log-density (~1e-6 for |log q| ~ 10) enters every difference in proportion to them.
enum GradientConfiguration: String, CaseIterable, Sendable {
    case noiseFlow, noiseFlowContextLevels, noiseFlowCodeSteps, affineCoupling, tanhAffine, actNorm, invConv1x1, waveformFlow, conv1d, pointwise

    /// The checks at the point(s) of `seed`, merged, and how many points (conv1d: one per shape of
    /// `OpsTests.convShapes`; pointwise: one per op).
    func run(seed s: UInt64) throws -> (result: GradientCheck.Result, points: Int) {
        var g = SplitMix64(seed: 0x5EED_0000 &+ s &* 0x9E37_79B9)
        func next() -> UInt64 { g.next() }
        switch self {
        case .noiseFlow:
            let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 5), seed: next())
            NoiseFlowTests.randomize(f, seed: next())
            return (try NoiseFlowTests.gradientResult(f, batch: 2, length: 16, epsSeed: next(), weightSeed: next(),
                                                      logqWeights: [0.6, -0.9], maxPerProbe: 5, checkSeed: next()), 1)
        case .noiseFlowContextLevels:
            let f = try NoiseFlow(configuration: .init(layers: 4, hidden: 5, base: .standardLogistic, contextLevels: 2), seed: next())
            NoiseFlowTests.randomize(f, seed: next())
            return (try NoiseFlowTests.gradientResult(f, batch: 1, length: 32, epsSeed: next(), weightSeed: next(),
                                                      logqWeights: [0.7], maxPerProbe: 4, checkSeed: next()), 1)
        case .noiseFlowCodeSteps:
            let f = try NoiseFlowTests.codeStepsFlow(seed: next(), firstLayerSeed: next(), lastLayerSeed: next())
            return (try NoiseFlowTests.gradientResult(f, batch: 1, length: 16, epsSeed: next(), weightSeed: next(),
                                                      logqWeights: [0.5], maxPerProbe: 4, checkSeed: next()), 1)
        case .affineCoupling:
            let cp = try AffineCoupling(name: "cp", channels: 4, hidden: 6, kernelSize: 3, seed: next())
            cp.conv3.weight.value = randomArray(cp.conv3.weight.count, seed: next(), scale: 0.4)
            cp.conv3.bias.value = randomArray(cp.conv3.bias.count, seed: next(), scale: 0.4)
            let shape = Shape(batch: 2, channels: 4, time: 8)
            return (try TransformTests.gradientResult(cp, shape: shape, x: randomArray(shape.count, seed: next()), fdStep: 1e-3,
                                                      weightSeed: next(), checkSeed: next()), 1)
        case .tanhAffine:
            return (TanhAffineTests.gradientResult(seed: next()), 1)
        case .actNorm:
            let shape = Shape(batch: 3, channels: 4, time: 10)
            let x = randomArray(shape.count, seed: next()).enumerated().map { 2 * $0.element + Float($0.offset % 3) }
            let a = ActNorm(name: "an", channels: 4)
            _ = try a.forward(x, shape: shape)   // data init
            return (try TransformTests.gradientResult(a, shape: shape, x: x, fdStep: 2e-3, weightSeed: next(), checkSeed: next()), 1)
        case .invConv1x1:
            let ic = InvConv1x1(name: "ic", channels: 8, seed: next())
            let d = randomArray(64, seed: next(), scale: 0.2)
            for i in 0..<64 { ic.weight.value[i] += d[i] }
            let shape = Shape(batch: 2, channels: 8, time: 6)
            return (try TransformTests.gradientResult(ic, shape: shape, x: randomArray(shape.count, seed: next()), fdStep: 2e-3,
                                                      weightSeed: next(), checkSeed: next()), 1)
        case .waveformFlow:
            let f = try WaveformFlowTests.makeSmall(seed: next(), layerSeed: next())
            return (try WaveformFlowTests.gradientResult(f, batch: 2, length: 16, inputSeed: next(), logpWeights: [0.7, -1.3],
                                                         checkSeed: next()), 1)
        case .conv1d:
            var r = GradientCheck.Result()
            for (k, d, relu, ci, co, w) in OpsTests.convShapes {
                let conv = try OpsTests.makeConv(kernel: k, dilation: d, relu: relu, ci: ci, co: co, workers: w, seed: next())
                let B = 3, T = 11
                r.add(try OpsTests.convGradients(conv, x: Box(randomArray(B * ci * T, seed: next())), batch: B, time: T,
                                                 weightSeed: next(), checkSeed: next()).result)
            }
            return (r, OpsTests.convShapes.count)
        case .pointwise:
            var r = GradientCheck.Result()
            for op in OpsTests.pointwiseOps {
                let x = randomArray(24, seed: next(), scale: op.scale)
                r.add(OpsTests.pointwiseResult(op.name, op.f, op.back, x: x, weightSeed: next(), checkSeed: next()))
            }
            return (r, OpsTests.pointwiseOps.count)
        }
    }
}

/// The robustness run of the gradient harness: every configuration over many random points, no
/// failure and few skipped entries. `Scripts/gradcheck-seeds` sets AUDIODQ_GRADCHECK_SEEDS (points
/// per configuration, hundreds); the default run checks 3 and stays fast.
@Suite struct GradientSeedsTests {
    static var seeds: Int { ProcessInfo.processInfo.environment["AUDIODQ_GRADCHECK_SEEDS"].flatMap { Int($0) } ?? 3 }

    @Test(arguments: GradientConfiguration.allCases)
    func manyRandomPoints(_ c: GradientConfiguration) throws {
        var total = GradientCheck.Result()
        var points = 0, pointsWithSkips = 0
        for s in 0..<Self.seeds {
            let (r, n) = try c.run(seed: UInt64(s))
            total.add(r)
            points += n
            if r.skipped > 0 { pointsWithSkips += 1 }
        }
        let entries = total.checked + total.skipped
        func pct(_ n: Int) -> String { String(format: "%.2f%%", 100 * Double(n) / Double(max(entries, 1))) }
        print("gradcheck-seeds: \(c.rawValue): seeds \(Self.seeds), points \(points), entries \(entries), checked \(total.checked), "
              + "adapted \(total.adapted) (\(pct(total.adapted)); one-sided \(total.oneSided)), skipped \(total.skipped) (\(pct(total.skipped)); "
              + "on \(pointsWithSkips) seeds), failures \(total.failures.count), worst ratio \(String(format: "%.3f", total.worstRatio)) "
              + "(adapted \(String(format: "%.3f", total.worstAdaptedRatio)))")
        #expect(total.failures.isEmpty, "\(total.failures.prefix(10))")
        #expect(total.skippedShare <= 0.05, "\(total.kinks.filter { $0.contains("SKIPPED") }.prefix(10))")
    }
}
