import SoundFileIO

/// Reads continuous samples as Double from `.f32`, `.f64`, `.npy` or float `.wav`, streaming.
///
/// `channels` is known for `.npy` (shape) and `.wav`; raw files take it from the caller.
/// `count` is the total number of values (frames × channels).
public final class ValueReader {
    public let path: String
    public let format: ValueFormat
    public let type: ValueType
    public let channels: Int?
    public let count: Int
    public let sampleRate: Int?
    private var fd: FileDescriptor?
    private var wav: FloatSoundFile?
    private var scratch: [UInt8] = []
    public private(set) var position = 0

    public init(path: String, channels rawChannels: Int? = nil) throws {
        self.path = path
        guard let format = ValueFormat(path: path) else {
            throw AudioDQError.unknownOutputFormat(path: path, allowed: ValueFormat.extensionsText)
        }
        self.format = format
        switch format {
        case .wav:
            do { wav = try FloatSoundFile(reading: path) } catch { throw AudioDQError.soundFile(error) }
            type = wav!.precision == .float32 ? .float32 : .float64
            channels = wav!.channels
            count = Int(wav!.frames) * wav!.channels
            sampleRate = wav!.sampleRate
        case .f32, .f64:
            let f = try FileDescriptor(reading: path)
            type = format == .f32 ? .float32 : .float64
            let size = f.size
            guard size % Int64(type.byteWidth) == 0 else {
                throw AudioDQError.malformed(path: path, reason: "size \(size) bytes is not a whole number of \(type.rawValue) values")
            }
            count = Int(size) / type.byteWidth
            channels = rawChannels
            sampleRate = nil
            fd = f
        case .npy:
            let f = try FileDescriptor(reading: path)
            var head = [UInt8](repeating: 0, count: NpyHeader.maxPrefixBytes)
            let got = try head.withUnsafeMutableBytes { (p) throws in try f.read(into: p) }
            head.removeLast(head.count - got)
            let h = try NpyHeader.parse(head, path: path)
            type = h.type
            let ch = h.shape.count == 2 ? h.shape[1] : 1
            let (n, overflow) = h.shape[0].multipliedReportingOverflow(by: ch)
            let dataBytes = f.size - Int64(h.dataOffset)
            guard !overflow, n <= Int.max / 8, Int64(n) * Int64(type.byteWidth) == dataBytes else {
                throw AudioDQError.malformed(path: path, reason: ".npy shape \(h.shape) needs \(overflow ? "an impossible number of" : String(n * type.byteWidth)) data bytes, file has \(dataBytes)")
            }
            count = n
            channels = ch
            sampleRate = nil
            // reopen positioned at the data
            let f2 = try FileDescriptor(reading: path)
            var skip = [UInt8](repeating: 0, count: h.dataOffset)
            _ = try skip.withUnsafeMutableBytes { (p) throws in try f2.read(into: p) }
            fd = f2
        }
    }

    /// Reads up to `out.count` values; returns how many (0 at the end).
    public func read(into out: UnsafeMutableBufferPointer<Double>) throws -> Int {
        let want = min(out.count, count - position)
        guard want > 0 else { return 0 }
        var got = 0
        if let wav {
            do { got = try wav.read(into: UnsafeMutableBufferPointer(rebasing: out[0..<want])) } catch { throw AudioDQError.soundFile(error) }
        } else if let fd {
            let bytes = want * type.byteWidth
            if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
            let n = try scratch.withUnsafeMutableBytes { (p) throws in
                try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: p[0..<bytes]))
            }
            got = n / type.byteWidth
            scratch.withUnsafeBytes { p in
                if type == .float32 {
                    for i in 0..<got { out[i] = Double(p.loadUnaligned(fromByteOffset: i * 4, as: Float.self)) }
                } else {
                    for i in 0..<got { out[i] = p.loadUnaligned(fromByteOffset: i * 8, as: Double.self) }
                }
            }
        }
        if got < want { throw AudioDQError.malformed(path: path, reason: "ended after \(position + got) of \(count) values") }
        position += got
        return got
    }
}
