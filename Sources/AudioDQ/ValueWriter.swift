import SoundFileIO

/// Writes continuous samples (interleaved Float or Double) in one of the `ValueFormat`s, to the
/// write path of an `AtomicOutput`. The element type is fixed at creation; `write` must be called
/// with buffers of that type.
final class ValueWriter {
    enum Sink {
        case file(FileDescriptor)
        case wav(FloatSoundFile)
    }

    let format: ValueFormat
    let type: ValueType
    private let sink: Sink
    private let reportPath: String
    private let writePath: String
    private var hash: SourceHash?

    /// Creates the file. For `npy`, `frames` and `channels` fix the header's shape. `hashing`:
    /// keep a SHA-256 of the bytes written, for `digest()`.
    init(output: AtomicOutput, format: ValueFormat, type: ValueType, frames: Int, channels: Int,
         sampleRate: Int, hashing: Bool = false) throws {
        self.format = format
        self.hash = hashing ? SourceHash() : nil
        self.type = type
        self.reportPath = output.finalPath
        self.writePath = output.writePath
        switch format {
        case .f32, .f64, .npy:
            let fd = try FileDescriptor(writing: output)
            let bytes = Int64(frames) * Int64(channels) * Int64(type.byteWidth) + (format == .npy ? 128 : 0)
            if !output.isStream && bytes >= 1 << 22 {
                // reserve a large file at once: fewer block allocations while writing, and a full
                // disk is found before any sample is written (small files skip the extra call)
                try fd.preallocate(bytes)
            }
            if format == .npy {
                let header = NpyHeader(type: type, shape: channels == 1 ? [frames] : [frames, channels])
                let bytes = header.encoded()
                hash?.update(bytes)
                try bytes.withUnsafeBytes { (p) throws in try fd.write(p) }
            }
            sink = .file(fd)
        case .wav:
            do {
                sink = .wav(try FloatSoundFile(creating: output.writePath, descriptor: output.descriptor,
                                               precision: type == .float32 ? .float32 : .float64,
                                               sampleRate: sampleRate, channels: channels))
            } catch {
                throw AudioDQError.cannotWrite(path: output.finalPath, reason: "\(error)")
            }
        }
    }

    func write(_ values: UnsafeBufferPointer<Float>) throws {
        precondition(type == .float32)
        try write(UnsafeRawBufferPointer(values)) { (f) throws(SoundFileError) in try f.write(values) }
    }

    func write(_ values: UnsafeBufferPointer<Double>) throws {
        precondition(type == .float64)
        try write(UnsafeRawBufferPointer(values)) { (f) throws(SoundFileError) in try f.write(values) }
    }

    /// Raw and .npy files take the bytes (hashed on the way); a WAV takes them through libsndfile.
    private func write(_ bytes: UnsafeRawBufferPointer, wav: (FloatSoundFile) throws(SoundFileError) -> Void) throws {
        switch sink {
        case .file(let fd):
            hash?.update(bytes)
            try fd.write(bytes)
        case .wav(let f):
            do { try wav(f) } catch { throw AudioDQError.cannotWrite(path: reportPath, reason: Self.reason(error)) }
        }
    }

    func close() throws {
        switch sink {
        case .file(let fd): try fd.close()
        case .wav(let f):
            do { try f.close() } catch { throw AudioDQError.cannotWrite(path: reportPath, reason: Self.reason(error)) }
        }
    }

    /// SHA-256 of the bytes written, after `close()`, or nil when not hashing: hashed on the way
    /// out for raw and .npy files; a WAV (whose header libsndfile writes) is read back once.
    func digest() throws -> String? {
        guard let hash else { return nil }
        switch sink {
        case .file: return hash.finalizeHex()
        case .wav: return try FileHasher.hash(path: writePath)
        }
    }

    private static func reason(_ e: SoundFileError) -> String {
        switch e {
        case .writeFailed(_, let r), .cannotCreate(_, let r): return r
        default: return e.description
        }
    }
}
