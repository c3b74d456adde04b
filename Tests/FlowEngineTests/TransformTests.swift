@testable import FlowEngine
import Foundation
import Testing

/// Every invertible transform: inverse(forward(x)) == x, logDet against a brute-force Jacobian,
/// and parameter/input gradients against finite differences.
@Suite struct TransformTests {
    /// Runs the three checks on `t` for input `x` of `shape`.
    static func checkTransform(_ t: InvertibleTransform, shape: Shape, x x0: [Float], fdStep: Float = 2e-3) throws {
        // 1. Round trip.
        let (y, ld) = try t.forward(x0, shape: shape)
        let back = try t.inverse(y, shape: shape)
        for i in x0.indices { #expect(abs(back[i] - x0[i]) <= 1e-4 * max(1, abs(x0[i])), "round trip at \(i)") }

        // 2. logDet of item 0 against the brute-force Jacobian of that item alone.
        let one = Shape(batch: 1, channels: shape.channels, time: shape.time)
        let x1 = Array(x0[0..<one.count])
        let (_, ld1) = try t.forward(x1, shape: one)
        #expect(abs(ld1[0] - ld[0]) < 1e-4 * max(1, abs(ld[0])), "logDet must not depend on the other items")
        let brute = try bruteForceLogAbsDet(x1) { try t.forward($0, shape: one).y }
        #expect(abs(brute - Double(ld1[0])) < 2e-3 * max(1, abs(brute)), "logDet \(ld1[0]) vs brute-force \(brute)")

        // 3. Gradients.
        try gradientResult(t, shape: shape, x: x0, fdStep: fdStep).expectClean()
    }

    /// Gradient check of parameters and input for L = sum w * y + sum wl * logDet, w and wl from
    /// `weightSeed` and `weightSeed + 1`.
    static func gradientResult(_ t: InvertibleTransform, shape: Shape, x x0: [Float], fdStep: Float, weightSeed: UInt64 = 31,
                               checkSeed: UInt64 = 99) throws -> GradientCheck.Result {
        let w = randomArray(shape.count, seed: weightSeed)
        let wl = randomArray(shape.batch, seed: weightSeed &+ 1)
        for p in t.parameters { p.zeroGradient() }
        let (y2, _) = try t.forward(x0, shape: shape)
        let dx = try t.backward(x: x0, y: y2, dy: w, dLogDet: wl, shape: shape)
        let xb = Box(x0)
        let probes = t.parameters.map(GradientCheck.probe) + [GradientCheck.probe("x", xb, analytic: dx)]
        return try GradientCheck(step: fdStep, seed: checkSeed).run(probes) {
            let (yy, l) = try t.forward(xb.values, shape: shape)
            return dot(w, yy) + dot(wl, l)
        }
    }

    @Test func actNormInitAndChecks() throws {
        let shape = Shape(batch: 3, channels: 4, time: 10)
        let x = randomArray(shape.count, seed: 1).enumerated().map { 2 * $0.element + Float($0.offset % 3) }
        let a = ActNorm(name: "an", channels: 4)
        let (y, _) = try a.forward(x, shape: shape)
        #expect(a.isInitialized)
        for c in 0..<4 {
            var vals: [Double] = []
            for b in 0..<3 { for t in 0..<10 { vals.append(Double(y[(b * 4 + c) * 10 + t])) } }
            let mean = vals.reduce(0, +) / Double(vals.count)
            let variance = vals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(vals.count - 1)
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-4)
        }
        try Self.checkTransform(a, shape: shape, x: x)
    }

    @Test func invConvInitIsOrthogonalAndChecks() throws {
        let ic = InvConv1x1(name: "ic", channels: 8, seed: 3)
        let w = ic.weight.value
        for i in 0..<8 { for j in 0..<8 {
            var s: Float = 0
            for k in 0..<8 { s += w[i * 8 + k] * w[j * 8 + k] }
            #expect(abs(s - (i == j ? 1 : 0)) < 1e-5)
        } }
        #expect(abs(try ic.logAbsDet()) < 1e-5)
        // Move away from orthogonal so log|det W| != 0 and its gradient matters.
        for i in 0..<64 { ic.weight.value[i] += 0.3 * Float(sin(Double(i))) }
        #expect(abs(try ic.logAbsDet()) > 0.01)
        let shape = Shape(batch: 2, channels: 8, time: 6)
        try Self.checkTransform(ic, shape: shape, x: randomArray(shape.count, seed: 4))
    }

    @Test func affineCouplingChecks() throws {
        let cp = try AffineCoupling(name: "cp", channels: 4, hidden: 6, kernelSize: 3, seed: 5)
        // Zero-initialised last layer: identity with logDet 0.
        let shape = Shape(batch: 2, channels: 4, time: 8)
        let x = randomArray(shape.count, seed: 6)
        let (y0, ld0) = try cp.forward(x, shape: shape)
        #expect(y0 == x && ld0 == [0, 0])
        // Non-trivial last layer for the checks.
        cp.conv3.weight.value = randomArray(cp.conv3.weight.count, seed: 7, scale: 0.4)
        cp.conv3.bias.value = randomArray(cp.conv3.bias.count, seed: 8, scale: 0.4)
        try Self.checkTransform(cp, shape: shape, x: x, fdStep: 1e-3)
    }

    @Test func denseLUAgainstKnownDeterminant() throws {
        // det [[0, 2], [3, 4]] = -6 (needs a pivot swap)
        let lu = try DenseLU([0, 2, 3, 4], n: 2)
        #expect(abs(lu.logAbsDet - Foundation.log(6.0)) < 1e-12 && lu.sign == -1)
        let inv = lu.inverse()
        #expect(abs(inv[0] + 2.0 / 3) < 1e-12 && abs(inv[1] - 1.0 / 3) < 1e-12 && abs(inv[2] - 0.5) < 1e-12 && inv[3] == 0)
        #expect(throws: FlowEngineError.singularMatrix("matrix")) { try DenseLU([1, 2, 2, 4], n: 2) }
    }
}
