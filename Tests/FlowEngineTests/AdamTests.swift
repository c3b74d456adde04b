@testable import FlowEngine
import Foundation
import Testing

/// Adam against a Double re-statement of torch.optim.Adam's update, plus clipping and warm-up.
@Suite struct AdamTests {
    /// Reference Adam step in Double for one scalar.
    static func reference(p: inout Double, m: inout Double, v: inout Double, g: Double, t: Int, lr: Double) {
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        let mh = m / (1 - pow(0.9, Double(t))), vh = v / (1 - pow(0.999, Double(t)))
        p -= lr * mh / (vh.squareRoot() + 1e-8)
    }

    @Test func matchesReferenceUpdates() throws {
        let p = Parameter(name: "p", shape: [3], value: [1, -2, 0.5])
        let adam = try Adam(parameters: [p], options: .init(learningRate: 0.01))
        var ref = p.value.map(Double.init), m = [0.0, 0, 0], v = [0.0, 0, 0]
        for t in 1...5 {
            let g: [Float] = [Float(t) * 0.1, -0.3, 1e-3 * Float(t)]
            p.grad = g
            adam.step()
            for i in 0..<3 { Self.reference(p: &ref[i], m: &m[i], v: &v[i], g: Double(g[i]), t: t, lr: 0.01) }
            for i in 0..<3 { #expect(abs(Double(p.value[i]) - ref[i]) < 1e-6) }
        }
        #expect(adam.stepCount == 5)
        // First step moves every coordinate by ~lr (bias correction).
        let q = Parameter(name: "q", shape: [1], value: [0])
        q.grad = [123]
        try Adam(parameters: [q], options: .init(learningRate: 0.01)).step()
        #expect(abs(q.value[0] + 0.01) < 1e-6)
    }

    @Test func clippingAndWarmup() throws {
        let a = Parameter(name: "a", shape: [2], value: [0, 0])
        let adam = try Adam(parameters: [a], options: .init(learningRate: 1, maxGradNorm: 1, warmupSteps: 4))
        a.grad = [3, 4]
        #expect(abs(adam.gradientNorm() - 5) < 1e-9)
        #expect(adam.currentLearningRate == 0.25)
        let norm = adam.step()
        #expect(norm.map { abs($0 - 5) < 1e-9 } == true)
        // Clipped gradient (0.6, 0.8): first Adam step moves by lr_1 = 0.25 in each coordinate.
        #expect(abs(a.value[0] + 0.25) < 1e-5 && abs(a.value[1] + 0.25) < 1e-5)
        #expect(adam.currentLearningRate == 0.5)
        #expect(throws: FlowEngineError.self) { try Adam(parameters: [a], options: .init(beta1: 1)) }
    }

    /// Cosine decay over D steps: step t uses lr·½(1 + cos(π(t − 1)/D)) (full rate first, a small
    /// positive rate at step D, 0 after), times the warm-up factor; each step moves a parameter
    /// with a constant gradient by exactly that rate (Adam's first steps move by lr_t).
    @Test func cosineDecay() throws {
        let d = 8
        let a = Parameter(name: "a", shape: [1], value: [0])
        let adam = try Adam(parameters: [a], options: .init(learningRate: 0.1, warmupSteps: 2, decaySteps: d))
        var moved: [Float] = []
        for t in 1...(d + 2) {
            let expected = 0.1 * min(1, Double(t) / 2) * 0.5 * (1 + cos(Double.pi * Double(min(t - 1, d)) / Double(d)))
            #expect(abs(Double(adam.currentLearningRate) - expected) < 1e-7, "step \(t)")
            let before = a.value[0]
            a.grad = [1]
            adam.step()
            moved.append(before - a.value[0])
        }
        #expect(moved[0] > 0 && moved[d - 1] > 0 && moved[d - 1] < moved[1] / 20)
        #expect(moved[d] == 0 && moved[d + 1] == 0)
        #expect(throws: FlowEngineError.self) { try Adam(parameters: [a], options: .init(decaySteps: -1)) }
        // no decay: the constant rate, bit for bit
        #expect(try Adam(parameters: [a], options: .init(learningRate: 0.1)).currentLearningRate == 0.1)
    }
}
