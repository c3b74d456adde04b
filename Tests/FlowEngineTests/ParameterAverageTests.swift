@testable import FlowEngine
import Testing

/// `ParameterAverage` against a Double re-statement of its formula.
@Suite struct ParameterAverageTests {
    @Test func followsTheRampedDecayAndItsCap() throws {
        let p = Parameter(name: "p", shape: [2], value: [7, -7])   // the initialisation is never averaged in
        let average = try ParameterAverage(parameters: [p], decay: 0.5)
        #expect(average.values == [[7, -7]])
        var reference = [0.0, 0.0]
        for t in 1...12 {
            p.value = [Float(t), Float(t * t) * 0.25]
            let d = t == 1 ? 0 : min(0.5, Double(1 + t) / Double(10 + t))
            #expect(t == 1 || abs(Double(average.nextDecay) - d) < 1e-7)
            average.update()
            for i in 0..<2 { reference[i] = d * reference[i] + (1 - d) * Double(p.value[i]) }
            for i in 0..<2 {
                #expect(abs(Double(average.values[0][i]) - reference[i]) <= 1e-6 * max(1, abs(reference[i])), "t \(t)")
            }
        }
        #expect(average.count == 12)
        // t = 9 onwards the ramp (1 + t)/(10 + t) >= 10/19 exceeds the cap 0.5
        #expect(average.nextDecay == 0.5)
        // the first two updates, exactly: a_1 = 1, a_2 = (3/12)·1 + (9/12)·2 = 1.75
        let q = Parameter(name: "q", shape: [1], value: [1])
        let exact = try ParameterAverage(parameters: [q], decay: 0.999)
        exact.update()
        q.value = [2]
        exact.update()
        #expect(exact.values == [[1.75]])
    }

    @Test func refusesABadDecayAndAMismatchedRestore() throws {
        let p = Parameter(name: "p", shape: [3], value: [0, 0, 0])
        for d: Float in [-0.1, 1, 1.5, .nan] {
            #expect(throws: FlowEngineError.self) { _ = try ParameterAverage(parameters: [p], decay: d) }
        }
        let a = try ParameterAverage(parameters: [p], decay: 0.9)
        #expect(throws: FlowEngineError.self) { try a.restore(count: 3, values: [[1, 2]]) }
        #expect(throws: FlowEngineError.self) { try a.restore(count: -1, values: [[1, 2, 3]]) }
        try a.restore(count: 4, values: [[1, 2, 3]])
        #expect(a.count == 4 && a.values == [[1, 2, 3]])
        #expect(p.value == [0, 0, 0])   // restoring the average leaves the weights alone
    }
}
