import Foundation

/// Diagnostic for finite-difference gradient checks: records every ReLU pre-activation v (the
/// argument of max(v, 0)) that the layers compute while `record` runs, in evaluation order, so a
/// check can tell whether a perturbation moved any of them across the kink v = 0.
///
/// Off by default and free of shared state: layers read the task-local `current` once per call
/// (nil outside `record`) and copy their pre-activations only when it is set. `Conv1d` with
/// `.relu` records (batch, C_out, time) per forward call, `Pointwise.relu` its input.
///
/// `crossing` compares three recordings taken at x − a, x, x + b of one scalar input x. The
/// central difference over [x − a, x + b] is free of kinks when, for every pre-activation,
/// (1) the sign pattern [v > 0] (the mask the backward pass uses) is the same at the three points,
/// and (2) the quadratic through the three values has no zero in between (a pre-activation that
/// turns round and touches 0 inside the step). (1) is exact at the sampled points; (2) is exact to
/// second order for the smooth pieces between kinks.
final class KinkMonitor: @unchecked Sendable {
    /// The recording of one layer call: values[start ..< start + count], (batch, channels, time).
    struct Segment: Equatable {
        var layer: String
        var start: Int
        var count: Int
        var channels: Int
        var time: Int
    }

    /// A pre-activation that the step can push across 0.
    struct Crossing: CustomStringConvertible {
        var layer: String
        /// (batch item, channel, time) of the pre-activation.
        var item: Int, channel: Int, time: Int
        /// Its values at x − a, x, x + b.
        var minus: Float, center: Float, plus: Float

        var description: String {
            "\(layer) pre-activation [item \(item), channel \(channel), t \(time)] = \(minus), \(center), \(plus) at x−a, x, x+b"
        }
    }

    @TaskLocal static var current: KinkMonitor? = nil

    private let lock = NSLock()
    private(set) var values: [Float] = []
    private(set) var segments: [Segment] = []

    /// Runs `body` with a fresh monitor bound to the current task; returns its result and the
    /// recording.
    static func record<R>(_ body: () throws -> R) rethrows -> (R, KinkMonitor) {
        let m = KinkMonitor()
        let r = try $current.withValue(m) { try body() }
        return (r, m)
    }

    /// Appends one layer call's pre-activations, laid out (batch, channels, time).
    func append(layer: String, _ p: UnsafePointer<Float>, batch: Int, channels: Int, time: Int) {
        lock.lock()
        defer { lock.unlock() }
        let n = batch * channels * time
        segments.append(Segment(layer: layer, start: values.count, count: n, channels: channels, time: time))
        values.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
    }

    /// The first pre-activation that a central difference from x − a to x + b (a, b > 0) can push
    /// across 0, given the recordings at the three points; nil when there is none. Recordings of
    /// different layouts (another code path) count as a crossing at their first difference.
    static func crossing(minus m: KinkMonitor, center c: KinkMonitor, plus p: KinkMonitor, a: Double, b: Double) -> Crossing? {
        if m.segments != c.segments || p.segments != c.segments {
            return Crossing(layer: "(the layer calls differ)", item: 0, channel: 0, time: 0, minus: .nan, center: .nan, plus: .nan)
        }
        for s in c.segments {
            let n = s.channels * s.time
            for i in 0..<s.count where mayCross(m.values[s.start + i], c.values[s.start + i], p.values[s.start + i], a: a, b: b) {
                return Crossing(layer: s.layer, item: i / n, channel: (i % n) / s.time, time: i % s.time,
                                minus: m.values[s.start + i], center: c.values[s.start + i], plus: p.values[s.start + i])
            }
        }
        return nil
    }

    /// True when v(s) with v(−a) = vm, v(0) = v0, v(b) = vp may cross 0 on [−a, b]: the signs
    /// [v > 0] differ, or the interpolating quadratic v0 + B s + A s² has its vertex inside with a
    /// value of the other sign (or 0).
    static func mayCross(_ vm: Float, _ v0: Float, _ vp: Float, a: Double, b: Double) -> Bool {
        if (vm > 0) != (v0 > 0) || (vp > 0) != (v0 > 0) { return true }
        if vm == v0 && vp == v0 { return false }   // untouched by the perturbation
        let dm = Double(vm) - Double(v0), dp = Double(vp) - Double(v0)
        let qa = (a * dp + b * dm) / (a * b * (a + b))
        guard qa != 0 else { return false }   // linear: monotone between same-sign ends
        let qb = dp / b - qa * b
        let s = -qb / (2 * qa)
        guard s > -a && s < b else { return false }
        let vertex = Double(v0) + qb * s + qa * s * s
        return v0 > 0 ? vertex <= 0 : vertex > 0
    }
}
