@testable import FlowEngine
import Testing

/// The harness itself: it never passes an entry whose differences straddle a ReLU kink, checks
/// entries near a kink with a kink-free stencil instead of failing them, and still catches a wrong
/// gradient there. Also the kink monitor's recording and its crossing test.
@Suite struct GradientCheckTests {
    /// L(x) = relu(x[0]) through `Pointwise.relu` (so the monitor sees the pre-activation x[0]).
    static func reluLoss(_ box: Box) -> Double {
        var y: [Float] = [0]
        box.values.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Pointwise.relu(xp.baseAddress!, $0.baseAddress!, count: 1) } }
        return Double(y[0])
    }

    /// L(x) = relu(x[0] - s) + relu(x[0] + s): kinks at -s and +s.
    static func twoKinkLoss(_ box: Box, s: Float) -> Double {
        var y: [Float] = [0, 0]
        let v = [box.values[0] - s, box.values[0] + s]
        v.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { Pointwise.relu(xp.baseAddress!, $0.baseAddress!, count: 2) } }
        return Double(y[0]) + Double(y[1])
    }

    @Test func kinksOnBothSidesAreSkippedNotPassed() {
        // Kinks step/64 either side of x: every stencil straddles one; the entry is counted as
        // skipped, neither passed nor failed (the central difference happens to equal the true 1).
        let check = GradientCheck()
        let box = Box([0])
        let r = check.run([GradientCheck.probe("x", box, analytic: [1])]) { Self.twoKinkLoss(box, s: check.step / 64) }
        #expect(r.checked == 0 && r.skipped == 1 && r.failures.isEmpty && r.skippedShare == 1)
        #expect(r.kinks.count == 1 && r.kinks[0].contains("SKIPPED") && r.kinks[0].contains("Pointwise.relu"), "\(r.kinks)")
        #expect(box.values == [0])   // state restored
    }

    @Test func kinkExactlyAtThePointFollowsTheMask() {
        // At v = 0 the backward mask [v > 0] is off, so the analytic derivative is the left one, 0.
        // Every central difference there equals 0.5: the old harness passed 0.5 and failed 0.
        let box = Box([0])
        let ok = GradientCheck().run([GradientCheck.probe("x", box, analytic: [0])]) { Self.reluLoss(box) }
        #expect(ok.checked == 1 && ok.adapted == 1 && ok.failures.isEmpty, "\(ok)")
        let half = GradientCheck().run([GradientCheck.probe("x", box, analytic: [0.5])]) { Self.reluLoss(box) }
        #expect(half.failures.count == 1)
    }

    @Test func kinkCloserThanEveryStepIsCheckedOneSided() {
        // The kink sits step/32 below x: every central difference straddles it (the old retries at
        // step/4 and step/16 all failed a correct gradient); the side away from it is kink-free.
        let check = GradientCheck()
        let box = Box([check.step / 32])
        let r = check.run([GradientCheck.probe("x", box, analytic: [1])]) { Self.reluLoss(box) }
        #expect(r.checked == 1 && r.adapted == 1 && r.skipped == 0 && r.failures.isEmpty, "\(r)")
        #expect(r.kinks.first?.contains("one-sided") == true)
        // and a wrong gradient there is a failure, not a skip
        let wrong = check.run([GradientCheck.probe("x", box, analytic: [0])]) { Self.reluLoss(box) }
        #expect(wrong.checked == 1 && wrong.failures.count == 1 && wrong.skipped == 0)
    }

    @Test func kinksWithinTheWideStepsFallBackToTheBaseStep() {
        // Kinks 1.5 step either side of x: the wide stencils straddle one; central at step does not.
        let check = GradientCheck()
        let box = Box([0])
        let r = check.run([GradientCheck.probe("x", box, analytic: [1])]) { Self.twoKinkLoss(box, s: 1.5 * check.step) }
        #expect(r.checked == 1 && r.adapted == 1 && r.oneSided == 0 && r.failures.isEmpty)
        #expect(r.kinks.first?.contains("central, step \(check.step)") == true, "\(r.kinks)")
    }

    @Test func conv1dRecordsItsPreActivationsOnlyWhenMonitored() throws {
        let conv = try Conv1d(name: "c", inChannels: 2, outChannels: 3, kernelSize: 3, activation: .relu, initialization: .torchDefault(seed: 4))
        let B = 2, T = 5
        let x = randomArray(B * 2 * T, seed: 5)
        let linear = OpsTests.naiveConv(x, try Conv1d(name: "l", inChannels: 2, outChannels: 3, kernelSize: 3, initialization: .torchDefault(seed: 4)),
                                        batch: B, time: T)
        let (y, m) = KinkMonitor.record { OpsTests.run(conv, x, batch: B, time: T) }
        #expect(m.segments == [KinkMonitor.Segment(layer: "c", start: 0, count: B * 3 * T, channels: 3, time: T)])
        #expect(linear.contains { $0 < 0 })   // negative pre-activations are recorded, not clipped
        for i in linear.indices { #expect(abs(Double(m.values[i]) - linear[i]) < 1e-5 && y[i] == max(m.values[i], 0)) }
        #expect(KinkMonitor.current == nil)
        let identity = try Conv1d(name: "i", inChannels: 2, outChannels: 3, kernelSize: 3, initialization: .torchDefault(seed: 4))
        #expect(KinkMonitor.record { OpsTests.run(identity, x, batch: B, time: T) }.1.values.isEmpty)
    }

    @Test func crossingTest() {
        let h = 1e-3
        #expect(KinkMonitor.mayCross(1e-4, 2e-4, -1e-5, a: h, b: h))      // sign flips on the right
        #expect(KinkMonitor.mayCross(0, 1e-4, 2e-4, a: h, b: h))          // v = 0 is the inactive side
        #expect(!KinkMonitor.mayCross(1e-4, 2e-4, 3e-4, a: h, b: h))      // monotone, one sign
        #expect(!KinkMonitor.mayCross(-5, -5, -5, a: h, b: h))            // untouched
        // v(s) = (s - h/2)² - 0.1 h²: positive at -h, 0, h, negative around h/2
        let v = { (s: Double) in Float((s - h / 2) * (s - h / 2) - 0.1 * h * h) }
        #expect(v(-h) > 0 && v(0) > 0 && v(h) > 0)
        #expect(KinkMonitor.mayCross(v(-h), v(0), v(h), a: h, b: h))
        // the same parabola with its vertex outside the interval
        let w = { (s: Double) in Float((s - 3 * h) * (s - 3 * h) - 0.1 * h * h) }
        #expect(!KinkMonitor.mayCross(w(-h), w(0), w(h), a: h, b: h))
    }
}
