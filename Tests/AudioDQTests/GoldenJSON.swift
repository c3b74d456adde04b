import Foundation

/// A parsed JSON value, for the golden-output test's numeric comparisons (report JSON, value
/// fingerprints). Numbers are Doubles: exact for integers below 2⁵³, which is all the compared
/// documents hold (the sidecars' 64-bit `stream` is compared as bytes, never through this type).
enum GoldenJSON: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([GoldenJSON])
    case object([String: GoldenJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([GoldenJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: GoldenJSON].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    static func parse(_ data: Data) throws -> GoldenJSON { try JSONDecoder().decode(GoldenJSON.self, from: data) }

    /// Compact, keys sorted: the form the references are stored in.
    func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var d = try e.encode(self)
        d.append(0x0A)
        return d
    }

    /// The value at a dot-separated path of object keys ("dequantization.range"), if any.
    subscript(path: String) -> GoldenJSON? {
        var v: GoldenJSON? = self
        for key in path.split(separator: ".") {
            guard case .object(let o)? = v else { return nil }
            v = o[String(key)]
        }
        return v
    }

    var number: Double? { if case .number(let d) = self { d } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }

    /// This value without the object keys at `paths` (dot-separated from the top).
    func removing(_ paths: Set<String>, at prefix: String = "") -> GoldenJSON {
        switch self {
        case .object(let o):
            var kept: [String: GoldenJSON] = [:]
            for (k, v) in o {
                let p = prefix.isEmpty ? k : prefix + "." + k
                if !paths.contains(p) { kept[k] = v.removing(paths, at: p) }
            }
            return .object(kept)
        case .array(let a): return .array(a.map { $0.removing(paths, at: prefix) })
        default: return self
        }
    }

    /// Where `self` (this run) differs from `recorded`: object keys, array lengths, strings, bools
    /// and integral numbers exactly; other numbers within |a − b| ≤ relative·max(|a|, |b|) + absolute.
    /// Paths read like `channels[0].checks[2].value`.
    func differences(from recorded: GoldenJSON, relative: Double, absolute: Double, at path: String = "") -> [String] {
        switch (self, recorded) {
        case (.object(let a), .object(let b)):
            var out: [String] = []
            for k in Set(a.keys).union(b.keys).sorted() {
                let p = path.isEmpty ? k : path + "." + k
                switch (a[k], b[k]) {
                case (let x?, let y?): out += x.differences(from: y, relative: relative, absolute: absolute, at: p)
                case (_?, nil): out.append("\(p): not in the recording")
                default: out.append("\(p): missing")
                }
            }
            return out
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return ["\(path): \(a.count) elements, recorded \(b.count)"] }
            return zip(a, b).enumerated().flatMap { (i, pair) in
                pair.0.differences(from: pair.1, relative: relative, absolute: absolute, at: "\(path)[\(i)]")
            }
        case (.number(let a), .number(let b)):
            let integral = b == b.rounded() && abs(b) < 0x1p53
            let ok = integral ? a == b : abs(a - b) <= relative * max(abs(a), abs(b)) + absolute
            return ok ? [] : ["\(path): \(a), recorded \(b)"]
        default:
            return self == recorded ? [] : ["\(path): \(self.brief), recorded \(recorded.brief)"]
        }
    }

    private var brief: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let d): "\(d)"
        case .string(let s): "\"\(s)\""
        case .array(let a): "an array of \(a.count)"
        case .object: "an object"
        }
    }
}
