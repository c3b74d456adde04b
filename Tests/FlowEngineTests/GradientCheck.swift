@testable import FlowEngine
import Testing

/// The one finite-difference harness of the FlowEngine tests.
///
/// `loss` evaluates a scalar (Double) from the current state; each probe exposes a Float array
/// of that state (read/write by index) together with the analytic gradient the backward pass
/// produced for it. For a subset of indices a finite difference (Float steps, differences in
/// Double) is compared with the analytic value: |num - ana| <= atol + rtol * max(|num|, |ana|).
///
/// ReLU kinks: every loss evaluation runs inside `KinkMonitor.record`, so the harness sees every
/// ReLU pre-activation at each point it evaluates. A difference is used only if no pre-activation
/// can cross 0 over its points (same sign pattern, and the quadratic through the values stays off
/// 0; see `KinkMonitor.crossing`). The stencils, in order of rounding noise (e = rounding error of
/// one loss evaluation, about 1 ulp of the float32 log-densities):
/// 1. central (L(x+h) - L(x-h)) / 2h at h = step, step/2, step/4 (noise <= e/h, 2e/h, 4e/h);
/// 2. second-order one-sided (3L(x) - 4L(x-+h) + L(x-+2h)) / (+-2h) at h = step on a side without
///    a kink (noise <= 4e/step), for a kink closer to x than any usable central step.
/// An entry with none of these kink-free is SKIPPED: counted, never passed. A kink-free stencil
/// that disagrees is a failure: no retry with another step.
struct GradientCheck {
    struct Probe {
        var name: String
        var count: Int
        var get: (Int) -> Float
        var set: (Int, Float) -> Void
        var analytic: [Float]
    }

    /// Outcome of one run. Every drawn entry is either checked (compared with a kink-free
    /// stencil) or skipped.
    struct Result {
        /// One line per mismatch of a kink-free stencil (empty = all good).
        var failures: [String] = []
        /// Entries compared with a kink-free stencil (passes and failures).
        var checked = 0
        /// Of those, entries compared with a smaller or one-sided stencil because a kink was
        /// within reach of the central difference at `step`.
        var shrunk = 0
        /// Entries with a kink within reach of every stencil.
        var skipped = 0
        /// Largest |num - ana| / (atol + rtol max(|num|, |ana|)) over the checked entries (> 1 = failure).
        var worstRatio = 0.0
        /// For each shrunk or skipped entry: the entry, the stencil used and the pre-activation
        /// that straddled 0 for the central difference at `step`.
        var kinks: [String] = []

        var skippedShare: Double { checked + skipped == 0 ? 0 : Double(skipped) / Double(checked + skipped) }

        /// Expects no failure and at most `maxSkippedShare` of the drawn entries skipped.
        func expectClean(maxSkippedShare: Double = 0.05, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(failures.isEmpty, "\(failures)", sourceLocation: sourceLocation)
            #expect(skippedShare <= maxSkippedShare, "skipped \(skipped) of \(checked + skipped): \(kinks)", sourceLocation: sourceLocation)
        }

        mutating func add(_ r: Result) {
            failures += r.failures
            checked += r.checked
            shrunk += r.shrunk
            skipped += r.skipped
            worstRatio = max(worstRatio, r.worstRatio)
            kinks += r.kinks
        }
    }

    var step: Float = 2e-3
    var rtol = 2e-2
    var atol = 2e-3
    var maxPerProbe = 16
    var seed: UInt64 = 99

    /// One evaluation: the loss, its ReLU pre-activations, and the actual offset from x (Double).
    private struct Sample {
        var loss: Double
        var kinks: KinkMonitor
        var dx: Double
    }

    /// Nil when no pre-activation can cross 0 over the three points lo < mid < hi.
    private static func kink(_ lo: Sample, _ mid: Sample, _ hi: Sample) -> KinkMonitor.Crossing? {
        KinkMonitor.crossing(minus: lo.kinks, center: mid.kinks, plus: hi.kinks, a: mid.dx - lo.dx, b: hi.dx - mid.dx)
    }

    func run(_ probes: [Probe], loss: () throws -> Double) rethrows -> Result {
        var rng = SplitMix64(seed: seed)
        var r = Result()
        let (l0, m0) = try KinkMonitor.record(loss)
        let center = Sample(loss: l0, kinks: m0, dx: 0)
        for p in probes {
            precondition(p.analytic.count == p.count, "probe \(p.name): analytic gradient has wrong size")
            var idx = Array(0..<p.count)
            if idx.count > maxPerProbe {
                for i in 0..<maxPerProbe { idx.swapAt(i, i + Int(rng.next() % UInt64(idx.count - i))) }
                idx = Array(idx.prefix(maxPerProbe))
            }
            for i in idx {
                let ana = Double(p.analytic[i])
                let orig = p.get(i)
                /// Loss and recording at orig + offset (the Float point actually used, as Double offset).
                func at(_ offset: Float) throws -> Sample {
                    let x = orig + offset
                    p.set(i, x)
                    defer { p.set(i, orig) }
                    let (l, m) = try KinkMonitor.record(loss)
                    return Sample(loss: l, kinks: m, dx: Double(x) - Double(orig))
                }
                var estimate: (num: Double, stencil: String)? = nil
                var kink: KinkMonitor.Crossing? = nil
                var sides: [(h: Float, near: Sample)] = []
                for h in [step, step / 2, step / 4] {
                    let up = try at(h), down = try at(-h)
                    if h == step { sides = [(-h, down), (h, up)] }
                    if let k = Self.kink(down, center, up) {
                        kink = kink ?? k
                        continue
                    }
                    estimate = ((up.loss - down.loss) / (up.dx - down.dx), "central, step \(h)")
                    break
                }
                if estimate == nil {
                    // One-sided on a side whose three points x, x±h, x±2h are kink-free.
                    for (h, near) in sides {
                        let far = try at(2 * h)
                        guard (h < 0 ? Self.kink(far, near, center) : Self.kink(center, near, far)) == nil else { continue }
                        // Second-order one-sided difference for unequal Float steps d1 = near.dx, d2 = far.dx:
                        // L'(x) = [d2² (L1 - L0) - d1² (L2 - L0)] / (d1 d2 (d2 - d1)).
                        let d1 = near.dx, d2 = far.dx
                        let num = (d2 * d2 * (near.loss - center.loss) - d1 * d1 * (far.loss - center.loss)) / (d1 * d2 * (d2 - d1))
                        estimate = (num, "one-sided, step \(h)")
                        break
                    }
                }
                if let (num, _) = estimate {
                    let ratio = abs(num - ana) / (atol + rtol * max(abs(num), abs(ana)))
                    r.checked += 1
                    r.worstRatio = max(r.worstRatio, ratio)
                    if !(ratio <= 1) { r.failures.append("\(p.name)[\(i)]: numeric \(num) (\(estimate!.stencil)), analytic \(ana)") }
                }
                if let k = kink {
                    if estimate == nil { r.skipped += 1 } else { r.shrunk += 1 }
                    r.kinks.append("\(p.name)[\(i)] \(estimate.map { "checked (\($0.stencil))" } ?? "SKIPPED"): \(k)")
                }
            }
        }
        return r
    }

    /// Probe over a parameter's value, with its accumulated gradient as the analytic one.
    static func probe(_ p: Parameter) -> Probe {
        Probe(name: p.name, count: p.count, get: { p.value[$0] }, set: { p.value[$0] = $1 }, analytic: p.grad)
    }

    /// Probe over a boxed array (an op input), with a given analytic gradient.
    static func probe(_ name: String, _ box: Box, analytic: [Float]) -> Probe {
        Probe(name: name, count: box.values.count, get: { box.values[$0] }, set: { box.values[$0] = $1 }, analytic: analytic)
    }
}

/// A reference-type Float array so closures can perturb it in place.
final class Box {
    var values: [Float]
    init(_ v: [Float]) { values = v }
}

/// Deterministic test data.
func randomArray(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var r = SplitMix64(seed: seed)
    return (0..<n).map { _ in scale * Float(r.nextGaussian()) }
}

/// sum_i w_i y_i in Double: the generic test loss whose gradient w.r.t. y is w.
func dot(_ w: [Float], _ y: [Float]) -> Double {
    precondition(w.count == y.count)
    var s = 0.0
    for i in w.indices { s += Double(w[i]) * Double(y[i]) }
    return s
}

/// Brute-force log|det J| of a map R^n -> R^n by central differences (Float step) with the
/// determinant from an LU factorisation in Double.
func bruteForceLogAbsDet(_ x: [Float], step: Float = 1e-3, _ f: ([Float]) throws -> [Float]) throws -> Double {
    let n = x.count
    var jac = [Double](repeating: 0, count: n * n)
    var xp = x
    for j in 0..<n {
        let up = x[j] + step, down = x[j] - step
        xp[j] = up
        let yp = try f(xp)
        xp[j] = down
        let ym = try f(xp)
        xp[j] = x[j]
        let h = Double(up) - Double(down)
        for i in 0..<n { jac[i * n + j] = (Double(yp[i]) - Double(ym[i])) / h }
    }
    return try DenseLU(jac, n: n).logAbsDet
}
