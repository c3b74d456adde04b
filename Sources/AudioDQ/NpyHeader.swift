/// NumPy `.npy` headers (format 1.0 written; 1.0, 2.0 and 3.0 read).
///
/// Layout: magic `\x93NUMPY`, major, minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0),
/// then an ASCII Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (n, c), }`
/// padded with spaces and a final newline so the data starts at a multiple of 64 bytes.
public struct NpyHeader: Equatable, Sendable {
    public var type: ValueType
    public var shape: [Int]
    /// Bytes before the data.
    public var dataOffset: Int

    public init(type: ValueType, shape: [Int]) {
        self.type = type
        self.shape = shape
        self.dataOffset = 0
        self.dataOffset = encoded().count
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// Header bytes, version 1.0.
    public func encoded() -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(type.npyDescr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let len = dict.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xFF), UInt8(len >> 8)] + Array(dict.utf8)
    }

    /// Longest header text accepted (the dict literal and its padding), in bytes.
    public static let maxHeaderLength = 65536
    /// Bytes that always hold a whole acceptable header: the 12-byte prefix of version 2.0/3.0
    /// plus `maxHeaderLength`. Readers pass this many (or the whole file, when shorter) to `parse`.
    public static let maxPrefixBytes = 12 + maxHeaderLength

    /// Parses the first bytes of a file (at least 12; up to `maxPrefixBytes`). Accepts
    /// little-endian float32/float64, C order, 1-D or 2-D shapes.
    public static func parse(_ b: [UInt8], path: String) throws -> NpyHeader {
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else {
            throw AudioDQError.malformed(path: path, reason: "not a .npy file (bad magic)")
        }
        let major = b[6]
        var start = 10, len = 0
        switch major {
        case 1: len = Int(b[8]) | Int(b[9]) << 8
        case 2, 3:
            guard b.count >= 12 else { throw AudioDQError.malformed(path: path, reason: "truncated .npy header") }
            len = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            start = 12
        default: throw AudioDQError.malformed(path: path, reason: ".npy version \(major) not supported")
        }
        guard len <= maxHeaderLength, start + len <= b.count else {
            throw AudioDQError.malformed(path: path, reason: "truncated or oversized .npy header")
        }
        let text = String(decoding: b[start..<(start + len)], as: UTF8.self)
        func value(_ key: String) -> Substring? {
            guard let r = text.range(of: "'\(key)':") else { return nil }
            return text[r.upperBound...].drop(while: { $0 == " " })
        }
        guard let d = value("descr"), d.hasPrefix("'") else { throw AudioDQError.malformed(path: path, reason: ".npy header has no descr") }
        let descr = d.dropFirst().prefix(while: { $0 != "'" })
        let type: ValueType
        switch descr {
        case "<f4", "=f4", "float32": type = .float32
        case "<f8", "=f8", "float64": type = .float64
        default: throw AudioDQError.malformed(path: path, reason: ".npy dtype \(descr) not supported (need little-endian float32 or float64)")
        }
        guard let f = value("fortran_order"), f.hasPrefix("False") else {
            throw AudioDQError.malformed(path: path, reason: ".npy in Fortran order is not supported")
        }
        guard let s = value("shape"), s.hasPrefix("(") else { throw AudioDQError.malformed(path: path, reason: ".npy header has no shape") }
        let inner = s.dropFirst().prefix(while: { $0 != ")" })
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingSpaces
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw AudioDQError.malformed(path: path, reason: ".npy shape '\(inner)' is not valid") }
            dims.append(v)
        }
        guard dims.count == 1 || dims.count == 2 else {
            throw AudioDQError.malformed(path: path, reason: ".npy shape must be (frames,) or (frames, channels), got \(dims.count) dimensions")
        }
        if dims.count == 2 && dims[1] == 0 { throw AudioDQError.malformed(path: path, reason: ".npy has 0 channels") }
        var h = NpyHeader(type: type, shape: dims)
        h.dataOffset = start + len
        return h
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
