@testable import FlowEngine
import Foundation
import Testing

/// The tanh-affine coupling element on its own (both couplings call it): forward against the
/// formula in Double, inverse(forward(x)) = x, and its backward against finite differences in the
/// shared harness (no ReLU inside, so every drawn entry must be checked: none may be skipped).
@Suite struct TanhAffineTests {
    /// One row: y, logS, scale and the log-determinant sum (started at `start`).
    static func forward(x: [Float], raw: [Float], shift: [Float], start: Float = 0) -> (y: [Float], logS: [Float], scale: [Float], sum: Float) {
        let n = x.count
        var y = [Float](repeating: 0, count: n), l = y, s = y
        var sum = start
        x.withUnsafeBufferPointer { xp in raw.withUnsafeBufferPointer { rp in shift.withUnsafeBufferPointer { mp in
            y.withUnsafeMutableBufferPointer { yp in l.withUnsafeMutableBufferPointer { lp in s.withUnsafeMutableBufferPointer { sp in
                TanhAffine.forward(x: xp.baseAddress!, raw: rp.baseAddress!, shift: mp.baseAddress!, count: n, y: yp.baseAddress!,
                                   logS: lp.baseAddress!, scale: sp.baseAddress!, logDetSum: &sum)
            } } }
        } } }
        return (y, l, s, sum)
    }

    @Test func forwardFollowsTheFormulaAndInverts() {
        let n = 40
        let x = randomArray(n, seed: 1, scale: 2), raw = randomArray(n, seed: 2, scale: 3), shift = randomArray(n, seed: 3)
        let f = Self.forward(x: x, raw: raw, shift: shift, start: 0.25)
        var expectedSum = 0.25
        for t in 0..<n {
            let l = Foundation.tanh(Double(raw[t]))
            #expect(abs(Double(f.logS[t]) - l) < 1e-6 && abs(f.logS[t]) < 1)
            #expect(abs(Double(f.scale[t]) - Foundation.exp(l)) < 1e-5)
            #expect(abs(Double(f.y[t]) - (Double(x[t]) * Foundation.exp(l) + Double(shift[t]))) < 1e-5 * max(1, abs(Double(f.y[t]))))
            expectedSum += l
        }
        #expect(abs(Double(f.sum) - expectedSum) < 1e-4, "logDet sum adds to the caller's running value")
        var back = [Float](repeating: 0, count: n)
        f.y.withUnsafeBufferPointer { yp in raw.withUnsafeBufferPointer { rp in shift.withUnsafeBufferPointer { mp in
            back.withUnsafeMutableBufferPointer {
                TanhAffine.inverse(y: yp.baseAddress!, raw: rp.baseAddress!, shift: mp.baseAddress!, count: n, x: $0.baseAddress!)
            }
        } } }
        for t in 0..<n { #expect(abs(back[t] - x[t]) <= 1e-5 * max(1, abs(x[t])), "inverse at \(t)") }
    }

    /// Gradient check of one row of `n` values at the point drawn from `seed`, for
    /// L = Σ w·y + g·logDet: x, the raw scale and the shift are all probed (every entry).
    static func gradientResult(seed: UInt64, n: Int = 24) -> GradientCheck.Result {
        let x = Box(randomArray(n, seed: seed, scale: 1.5)), raw = Box(randomArray(n, seed: seed &+ 100, scale: 1.5))
        let shift = Box(randomArray(n, seed: seed &+ 200))
        let w = randomArray(n, seed: seed &+ 300)
        let g = Float(randomArray(1, seed: seed &+ 400)[0])
        let f = forward(x: x.values, raw: raw.values, shift: shift.values)
        var dx = [Float](repeating: 0, count: n), dRaw = dx, dShift = dx
        x.values.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
            f.logS.withUnsafeBufferPointer { lp in f.scale.withUnsafeBufferPointer { sp in
                dx.withUnsafeMutableBufferPointer { dxp in dRaw.withUnsafeMutableBufferPointer { drp in dShift.withUnsafeMutableBufferPointer { dmp in
                    TanhAffine.backward(x: xp.baseAddress!, dy: wp.baseAddress!, logS: lp.baseAddress!, scale: sp.baseAddress!, dLogDet: g,
                                        count: n, dx: dxp.baseAddress!, dRaw: drp.baseAddress!, dShift: dmp.baseAddress!)
                } } }
            } }
        } }
        let probes = [GradientCheck.probe("x", x, analytic: dx), GradientCheck.probe("raw", raw, analytic: dRaw),
                      GradientCheck.probe("shift", shift, analytic: dShift)]
        return GradientCheck(step: 1e-3, rtol: 1e-2, atol: 1e-3, maxPerProbe: n, seed: seed).run(probes) {
            let out = forward(x: x.values, raw: raw.values, shift: shift.values)
            return dot(w, out.y) + Double(g) * Double(out.sum)
        }
    }

    @Test(arguments: [UInt64(11), 12, 13])
    func backwardMatchesFiniteDifferences(_ seed: UInt64) {
        let r = Self.gradientResult(seed: seed)
        r.expectClean(maxSkippedShare: 0)
        #expect(r.checked == 3 * 24 && r.skipped == 0)
    }

    /// A wrong derivative is caught: dropping the (1 − logS²) factor of ∂L/∂raw fails the check.
    @Test func aWrongRawGradientFails() {
        let n = 8
        let x = randomArray(n, seed: 5), raw = Box(randomArray(n, seed: 6, scale: 1.5)), shift = randomArray(n, seed: 7)
        let w = randomArray(n, seed: 8)
        let f = Self.forward(x: x, raw: raw.values, shift: shift)
        let wrong = (0..<n).map { w[$0] * x[$0] * f.scale[$0] + 0.7 }
        let r = GradientCheck(step: 1e-3, rtol: 1e-2, atol: 1e-3).run([GradientCheck.probe("raw", raw, analytic: wrong)]) {
            let out = Self.forward(x: x, raw: raw.values, shift: shift)
            return dot(w, out.y) + 0.7 * Double(out.sum)
        }
        #expect(r.checked == n && !r.failures.isEmpty)
    }
}
