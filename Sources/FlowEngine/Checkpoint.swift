import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A versioned binary file of named Float32 arrays plus the model architecture.
///
/// Layout (all integers little-endian):
///
///     magic "FLWCKPT\0" (8 bytes) | format version UInt32 | header length UInt32 |
///     header JSON (UTF-8: model, architecture, array names and shapes, in payload order) |
///     array payloads, Float32 little-endian, concatenated | CRC32 UInt32 of all preceding bytes
///
/// Reading checks, in order: magic, format version, CRC32, header, payload sizes (every shape's
/// product within the bytes that follow it); each failure is its own `FlowEngineError` case.
/// Writing goes to a temporary file in the destination's folder, flushed, and is renamed over the
/// destination (folder flushed), so a crash never leaves a half-written file.
public struct Checkpoint: Sendable, Equatable {
    public static let formatVersion: UInt32 = 1
    static let magic: [UInt8] = Array("FLWCKPT".utf8) + [0]

    /// One stored array: a dotted name, its shape, and shape.product values.
    public struct NamedArray: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    struct Header: Codable {
        struct Entry: Codable { var name: String; var shape: [Int] }
        var model: String
        var architecture: [String: Int]
        var arrays: [Entry]
    }

    /// Model type name, e.g. "WaveformFlow".
    public var model: String
    /// Architecture hyper-parameters; loading into a model requires equality.
    public var architecture: [String: Int]
    public var arrays: [NamedArray]

    public init(model: String, architecture: [String: Int], arrays: [NamedArray]) {
        self.model = model
        self.architecture = architecture
        self.arrays = arrays
    }

    /// Architecture as canonical one-line JSON (sorted keys), used in error messages.
    public var architectureDescription: String { Self.describe(model: model, architecture: architecture) }

    static func describe(model: String, architecture: [String: Int]) -> String {
        model + "{" + architecture.keys.sorted().map { "\"\($0)\":\(architecture[$0]!)" }.joined(separator: ",") + "}"
    }

    /// Array by name.
    public func array(_ name: String) -> NamedArray? { arrays.first { $0.name == name } }

    /// The one restore path of the flows: checks that this checkpoint is `model` with exactly
    /// `architecture` and holds exactly the arrays `parameters` (same names and shapes) plus the
    /// `extras` (name and value count of each state array stored besides the parameters), then
    /// copies the values into `parameters` and returns the extras' values in the order asked.
    /// Nothing is modified when a check fails; the first failing check is the error.
    func restore(model expectedModel: String, architecture expected: [String: Int], into parameters: [Parameter],
                 extras: [(name: String, count: Int)] = []) throws -> [[Float]] {
        guard model == expectedModel, architecture == expected else {
            throw FlowEngineError.checkpointArchitecture(
                expected: Self.describe(model: expectedModel, architecture: expected), found: architectureDescription)
        }
        let wanted = parameters.count + extras.count
        guard arrays.count == wanted else {
            throw FlowEngineError.checkpointArrayMismatch(name: "*", reason: "\(arrays.count) arrays, expected \(wanted)")
        }
        var found: [NamedArray] = []
        for p in parameters {
            guard let a = array(p.name) else { throw FlowEngineError.checkpointArrayMismatch(name: p.name, reason: "missing") }
            guard a.shape == p.shape else {
                throw FlowEngineError.checkpointArrayMismatch(name: p.name, reason: "shape \(a.shape), expected \(p.shape)")
            }
            found.append(a)
        }
        var extraValues: [[Float]] = []
        for e in extras {
            guard let a = array(e.name), a.values.count == e.count else {
                throw FlowEngineError.checkpointArrayMismatch(name: e.name, reason: "missing or wrong size")
            }
            extraValues.append(a.values)
        }
        for (p, a) in zip(parameters, found) { p.value = a.values }
        return extraValues
    }

    /// The complete file contents.
    public func encoded() throws -> Data {
        for a in arrays where a.shape.reduce(1, *) != a.values.count {
            throw FlowEngineError.checkpointArrayMismatch(name: a.name, reason: "shape \(a.shape) but \(a.values.count) values")
        }
        let header = Header(model: model, architecture: architecture,
                            arrays: arrays.map { .init(name: $0.name, shape: $0.shape) })
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let json = try enc.encode(header)
        var out = [UInt8]()
        out.reserveCapacity(16 + json.count + 4 * arrays.reduce(0) { $0 + $1.values.count } + 4)
        out += Self.magic
        Self.append(&out, Self.formatVersion)
        Self.append(&out, UInt32(json.count))
        out += json
        for a in arrays {
            for v in a.values { Self.append(&out, v.bitPattern) }
        }
        Self.append(&out, CRC32.checksum(out))
        return Data(out)
    }

    /// `payload` (a file without its last 4 bytes) followed by its CRC32: the file whose checksum
    /// holds. The checkpoint fuzzer seals every input so that mutations reach the header and
    /// payload checks instead of stopping at the checksum.
    public static func sealed(_ payload: Data) -> Data {
        var out = [UInt8](payload)
        append(&out, CRC32.checksum(out))
        return Data(out)
    }

    /// Parses file contents; `path` only labels errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Checkpoint {
        let bytes = [UInt8](data)
        guard bytes.count >= 20, Array(bytes[0..<8]) == magic else { throw FlowEngineError.checkpointBadMagic(path: path) }
        let version = readU32(bytes, 8)
        guard version == formatVersion else {
            throw FlowEngineError.checkpointVersion(path: path, found: version, supported: formatVersion)
        }
        let stored = readU32(bytes, bytes.count - 4)
        let computed = CRC32.checksum(bytes[0..<(bytes.count - 4)])
        guard stored == computed else { throw FlowEngineError.checkpointChecksum(path: path, stored: stored, computed: computed) }
        let hlen = Int(readU32(bytes, 12))
        guard 16 + hlen <= bytes.count - 4 else {
            throw FlowEngineError.checkpointMalformed(path: path, reason: "header length \(hlen) exceeds the file")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<(16 + hlen)]))
        } catch {
            throw FlowEngineError.checkpointMalformed(path: path, reason: "header JSON: \(error)")
        }
        var offset = 16 + hlen
        var arrays: [NamedArray] = []
        for e in header.arrays {
            guard e.shape.allSatisfy({ $0 >= 0 }) else {
                throw FlowEngineError.checkpointMalformed(path: path, reason: "array \(e.name) has shape \(e.shape)")
            }
            // the values must fit in the bytes left before the CRC: checked per factor, so a
            // shape whose product overflows is reported, not trapped on
            let room = (bytes.count - 4 - offset) / 4
            guard let n = Self.elementCount(e.shape, atMost: room) else {
                throw FlowEngineError.checkpointMalformed(path: path, reason: "array \(e.name) of shape \(e.shape) runs past the end of the file")
            }
            var values = [Float](repeating: 0, count: n)
            for i in 0..<n { values[i] = Float(bitPattern: readU32(bytes, offset + 4 * i)) }
            offset += 4 * n
            arrays.append(NamedArray(name: e.name, shape: e.shape, values: values))
        }
        guard offset == bytes.count - 4 else {
            throw FlowEngineError.checkpointMalformed(path: path, reason: "\(bytes.count - 4 - offset) unexpected bytes after the arrays")
        }
        return Checkpoint(model: header.model, architecture: header.architecture, arrays: arrays)
    }

    /// The product of `shape` (non-negative dimensions) when it is at most `limit`, else nil;
    /// never overflows.
    static func elementCount(_ shape: [Int], atMost limit: Int) -> Int? {
        if shape.contains(0) { return 0 }
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= limit else { return nil }
            n = p
        }
        return n
    }

    /// Writes atomically: temporary file in the same folder, then rename over `path`. With
    /// `flush` the temporary file is flushed (`fsync`) before the rename, so the name never
    /// reaches the disk before the bytes, and the folder after it, so the file survives a power
    /// loss once this returns; without, the file is whole for a killed process only.
    public func write(to path: String, flush: Bool = true) throws {
        let data = try encoded()
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var rng = SystemRandomNumberGenerator()
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(rng.next() % 1_000_000_000)"
        do {
            try data.write(to: URL(fileURLWithPath: tmp))
        } catch {
            throw FlowEngineError.checkpointIO(path: path, reason: "cannot write temporary file: \(error.localizedDescription)")
        }
        if flush, let reason = Checkpoint.sync(tmp, step: "fsync", dir: dir) {
            try? FileManager.default.removeItem(atPath: tmp)
            throw FlowEngineError.checkpointIO(path: path, reason: "cannot flush to disk: \(reason)")
        }
        Checkpoint.note("rename", dir: dir)
        if rename(tmp, path) != 0 {
            let err = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw FlowEngineError.checkpointIO(path: path, reason: "rename failed: \(err)")
        }
        if flush, let reason = Checkpoint.sync(dir, step: "fsyncdir", dir: dir) {
            throw FlowEngineError.checkpointIO(path: path, reason: "cannot flush folder \(dir) to disk: \(reason)")
        }
    }

    /// `fsync` of the file or folder at `path` through a descriptor of its own; the error text,
    /// or nil. A folder whose file system cannot sync folders (EINVAL) counts as flushed.
    private static func sync(_ path: String, step: String, dir: String) -> String? {
        note(step, dir: dir)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        if fsync(fd) != 0 && !(step == "fsyncdir" && errno == EINVAL) { return String(cString: strerror(errno)) }
        return nil
    }

    /// Test seam, keyed by folder: writes into a watched folder log their steps in order
    /// ("fsync", "rename", "fsyncdir").
    static let probe = Mutex<[String: [String]]>([:])

    private static func note(_ step: String, dir: String) {
        probe.withLock { if $0[dir] != nil { $0[dir]!.append(step) } }
    }

    /// Reads and validates a checkpoint file.
    public static func read(from path: String) throws -> Checkpoint {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FlowEngineError.checkpointIO(path: path, reason: "cannot read: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    private static func append(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }

    private static func readU32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}
