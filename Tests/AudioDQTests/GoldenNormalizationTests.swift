import Foundation
import Testing

/// The golden-output test's normalisation and tolerance, on small hand-made inputs.
@Suite struct GoldenNormalizationTests {
    @Test func removesKeysAsTheEncoderWouldNotHaveWrittenThem() throws {
        struct Inner: Encodable { var a = 1; var model: String? = "m.dqm"; var total = 2.5 }
        struct Outer: Encodable { var inner = Inner(); var shape = [3, 1]; var tool = "audiodq"; var version = "0.1.0" }
        func pretty<T: Encodable>(_ v: T) throws -> Data {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return try e.encode(v)
        }
        struct InnerWithout: Encodable { var a = 1; var model: String? = "m.dqm" }
        struct Without: Encodable { var inner = InnerWithout(); var tool = "audiodq" }
        let cut = GoldenNormalization.removing(["version", "inner.total", "shape"], from: try pretty(Outer()))
        #expect(String(decoding: cut, as: UTF8.self) == String(decoding: try pretty(Without()), as: UTF8.self))
        // a key of the same name at another depth stays
        let kept = GoldenNormalization.removing(["a"], from: try pretty(Outer()))
        #expect(String(decoding: kept, as: UTF8.self) == String(decoding: try pretty(Outer()), as: UTF8.self))
    }

    @Test func comparesStructureExactlyAndNumbersWithinTolerance() throws {
        let recorded = try GoldenJSON.parse(Data(#"{"n": 3, "x": 1.0000001, "ok": true, "v": [0.5, 0.25], "s": "a"}"#.utf8))
        let close = try GoldenJSON.parse(Data(#"{"n": 3, "x": 1.0000002, "ok": true, "v": [0.5, 0.2500001], "s": "a"}"#.utf8))
        #expect(close.differences(from: recorded, relative: 1e-5, absolute: 0).isEmpty)
        let far = try GoldenJSON.parse(Data(#"{"n": 4, "x": 1.1, "ok": false, "v": [0.5], "s": "b", "extra": null}"#.utf8))
        let d = far.differences(from: recorded, relative: 1e-5, absolute: 0)
        #expect(d.count == 6, "\(d)")
        #expect(d.contains { $0.hasPrefix("n:") } && d.contains { $0.hasPrefix("v:") } && d.contains { $0.hasPrefix("extra:") })
        // 0 and 1 stay numbers (not booleans), so a count of 1 cannot match `true`
        #expect(try GoldenJSON.parse(Data("[1, 0, true]".utf8)) == .array([.number(1), .number(0), .bool(true)]))
    }
}
