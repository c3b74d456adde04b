import Foundation
import Testing
import DiscreteAudio
import FlowEngine
@testable import Dequantization

/// The bound machinery on a model whose discrete probabilities integrate exactly: a 1-D logistic
/// density p(v) with CDF F, P(x) = F((x+1)/K − ½) − F(x/K − ½). The ratio is the same as the
/// Objective's: log p((x+u)/K − ½) − log K − log q(u).
@Suite struct BoundTests {
    let mu = 0.003, s = 0.006, k = 64

    func logp(_ v: Double) -> Double { let z = (v - mu) / s; return -z - 2 * log1p(exp(-z)) - log(s) }
    func cdf(_ v: Double) -> Double { 1 / (1 + exp(-(v - mu) / s)) }
    func exact(_ x: Int) -> Double { log(cdf(Double(x + 1) / Double(k) - 0.5) - cdf(Double(x) / Double(k) - 0.5)) }

    /// q(u) = 2u on [0,1) (drawn as sqrt of a uniform): a skewed, non-uniform dequantizer.
    func ratio(_ x: Int, _ r: Double, skewed: Bool) -> Double {
        let u = skewed ? r.squareRoot() : r
        let logq = skewed ? log(2 * u) : 0
        return logp((Double(x) + u) / Double(k) - 0.5) - log(Double(k)) - logq
    }

    @Test(arguments: [false, true])
    func elboBelowIwboBelowExactAndIwboConverges(_ skewed: Bool) {
        var rng = SplitMix64(seed: 9)
        for x in [30, 32, 33] {
            let truth = exact(x)
            var elbo = 0.0
            var iw: [Int: Double] = [:]
            let reps = 4000
            for _ in 0..<reps {
                elbo += ratio(x, rng.nextUniform(), skewed: skewed)
                for kk in [2, 16, 128] {
                    let draws = (0..<kk).map { _ in ratio(x, rng.nextUniform(), skewed: skewed) }
                    iw[kk, default: 0] += Evaluator.logMeanExp(draws)
                }
            }
            elbo /= Double(reps)
            for kk in iw.keys { iw[kk]! /= Double(reps) }
            #expect(elbo <= iw[2]! + 2e-3 && iw[2]! <= iw[16]! + 2e-3 && iw[16]! <= iw[128]! + 2e-3, "x \(x)")
            #expect(iw[128]! <= truth + 2e-3)
            #expect(truth - elbo > 0.01, "the test needs a real dequantization gap")
            // the gap to log P(x) shrinks with k and is small at k = 128
            #expect(truth - iw[128]! < (truth - elbo) / 4 + 1e-5, "x \(x): exact \(truth) elbo \(elbo) iw128 \(iw[128]!)")
        }
    }

    @Test func logMeanExpIsStable() {
        #expect(abs(Evaluator.logMeanExp([-1000, -1000]) - -1000) < 1e-12)
        #expect(abs(Evaluator.logMeanExp([0, log(3)]) - log(2)) < 1e-12)
        #expect(Evaluator.logMeanExp([-.infinity, -.infinity]) == -.infinity)
    }
}

@Suite struct ObjectiveGradientTests {
    /// Central differences of the whole objective (p and the variational q together, the same
    /// draw each time) against the hand-written gradients, for a sample of parameters of both.
    @Test(arguments: [BaseDistribution.standardNormal, .standardLogistic])
    func variationalObjectiveGradientsMatchFiniteDifferences(_ base: BaseDistribution) throws {
        let model = try DequantModel(flow: .init(squeeze: 4, steps: 2, hidden: 8, kernelSize: 3),
                                     noise: .init(layers: 2, hidden: 8, base: base), encoding: .pcmU8, sampleRate: 8000, seed: 3)
        // give the zero-initialised output layers some weight so every path carries gradient
        var jitter = SplitMix64(seed: 5)
        for p in model.parameters { for i in 0..<p.count { p.value[i] += Float(jitter.nextUniform() - 0.5) * 0.2 } }
        let objective = Objective(model: model)
        let batch = 2, length = 32
        let codes: [UInt32] = (0..<(batch * length)).map { UInt32(100 + Int(40 * sin(Double($0) / 3))) }
        func loss() throws -> Double {
            var rng = SplitMix64(seed: 77)
            return try codes.withUnsafeBufferPointer { try objective.lossAndGradients(codes: $0, batch: batch, length: length, rng: &rng) }
        }
        _ = try loss()   // ActNorm's data-dependent init happens on the first batch
        _ = try loss()
        let grads = model.parameters.map(\.grad)
        var checked = 0, bad = 0
        var pick = SplitMix64(seed: 11)
        for (pi, p) in model.parameters.enumerated() {
            for _ in 0..<3 {
                let i = Int(pick.next() % UInt64(p.count))
                let g = Double(grads[pi][i])
                let saved = p.value[i]
                // central differences; a smaller step is tried when a ReLU kink sits inside the first
                var ok = false
                var fd = 0.0
                for h in [Float(1e-2), 2.5e-3] {
                    let step = h * max(1, abs(saved))
                    p.value[i] = saved + step
                    let up = try loss()
                    p.value[i] = saved - step
                    let down = try loss()
                    p.value[i] = saved
                    fd = (up - down) / (2 * Double(step))
                    if abs(fd - g) <= 2e-3 + 0.05 * max(abs(fd), abs(g)) { ok = true; break }
                }
                checked += 1
                if !ok { bad += 1; print("\(p.name)[\(i)]: analytic \(g), numeric \(fd)") }
            }
        }
        #expect(checked > 40)
        #expect(bad == 0)
    }
}
