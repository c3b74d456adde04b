import FlowEngine
import Testing

/// The one finite-difference harness of the FlowEngine tests.
///
/// `loss` evaluates a scalar (Double) from the current state; each probe exposes a Float array
/// of that state (read/write by index) together with the analytic gradient the backward pass
/// produced for it. For a subset of indices the central difference
/// (L(x + h) - L(x - h)) / (x+h - x-h) (the actual Float step, in Double) is compared with the
/// analytic value: |num - ana| <= atol + rtol * max(|num|, |ana|), retried with steps h/4 and
/// h/16 before an entry counts as a failure (ReLU kinks).
struct GradientCheck {
    struct Probe {
        var name: String
        var count: Int
        var get: (Int) -> Float
        var set: (Int, Float) -> Void
        var analytic: [Float]
    }

    var step: Float = 2e-3
    var rtol = 2e-2
    var atol = 2e-3
    var maxPerProbe = 16
    var seed: UInt64 = 99

    /// Returns one line per mismatch (empty = all good) and the number of entries checked.
    func run(_ probes: [Probe], loss: () throws -> Double) rethrows -> (failures: [String], checked: Int) {
        var rng = SplitMix64(seed: seed)
        var failures: [String] = []
        var checked = 0
        for p in probes {
            precondition(p.analytic.count == p.count, "probe \(p.name): analytic gradient has wrong size")
            var idx = Array(0..<p.count)
            if idx.count > maxPerProbe {
                for i in 0..<maxPerProbe { idx.swapAt(i, i + Int(rng.next() % UInt64(idx.count - i))) }
                idx = Array(idx.prefix(maxPerProbe))
            }
            for i in idx {
                let ana = Double(p.analytic[i])
                checked += 1
                // A ReLU kink within `step` of the point spoils the wide difference; a wrong
                // gradient fails at every step, so the entry passes if one of three steps agrees.
                var nums: [Double] = []
                for h in [step, step / 4, step / 16] {
                    let orig = p.get(i)
                    let up = orig + h, down = orig - h
                    p.set(i, up)
                    let lp = try loss()
                    p.set(i, down)
                    let lm = try loss()
                    p.set(i, orig)
                    let num = (lp - lm) / (Double(up) - Double(down))
                    nums.append(num)
                    if abs(num - ana) <= atol + rtol * max(abs(num), abs(ana)) { break }
                }
                if nums.count == 3, let num = nums.last, !(abs(num - ana) <= atol + rtol * max(abs(num), abs(ana))) {
                    failures.append("\(p.name)[\(i)]: numeric \(nums), analytic \(ana)")
                }
            }
        }
        return (failures, checked)
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
