import Foundation
import Synchronization
import DiscreteAudio
import SoundFileIO
import Dequantization

/// What `audiodq convert` does for one file: discrete audio in, dequantized values out, plus the
/// sidecar. Streaming in chunks of `chunkFrames`; the output bytes do not depend on the chunk size
/// or the thread count (noise is counter-based, indexed by interleaved sample number).
public struct ConvertOptions: Sendable {
    public var input: String
    public var output: String
    /// Required for headerless RAW input.
    public var raw: RawFormat?
    /// nil: from the output's extension.
    public var format: ValueFormat?
    /// nil: `unit`, except `symmetric` for `.wav` output.
    public var range: DequantRange?
    /// nil: float32, or float64 for 24-bit input in `.npy`/`.wav`.
    public var dtype: ValueType?
    public var seed: UInt64 = 0
    /// Names the noise stream (hashed with FNV-1a 64); batch conversion uses the path relative to
    /// the corpus root, a single conversion "" unless given.
    public var streamName: String = ""
    public var force = false
    public var threads = 1
    public var chunkFrames = 65536
    /// Where to write the sidecar; nil: OUT + ".json" (none for device/FIFO outputs).
    public var sidecarPath: String?
    /// The source's SHA-256 when the caller already has it (batch conversion hashes first).
    public var sourceSHA256: String?

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }
}

public enum Converter {
    /// Converts one file; returns the sidecar that was written.
    @discardableResult
    public static func run(_ o: ConvertOptions) throws -> Sidecar {
        guard let format = o.format ?? ValueFormat(path: o.output) else {
            throw AudioDQError.unknownOutputFormat(path: o.output, allowed: ValueFormat.extensionsText)
        }
        guard o.chunkFrames > 0, o.threads > 0 else { throw AudioDQError.invalidArgument("chunk size and threads must be positive") }
        let reader: SoundFileReader
        do { reader = try SoundFileReader(path: o.input, raw: o.raw) } catch { throw AudioDQError.soundFile(error) }
        let info = reader.info
        let type = try resolveType(format: format, requested: o.dtype, encoding: info.encoding, output: o.output)
        let range = o.range ?? (format == .wav ? .symmetric : .unit)

        let out = try AtomicOutput(path: o.output, force: o.force, inputs: [o.input])
        let sidecarTarget = o.sidecarPath ?? (out.isStream ? nil : Sidecar.path(for: o.output))
        let sidecarOut = try sidecarTarget.map { (p) throws in
            try AtomicOutput(path: p, force: o.force, inputs: [o.input])
        }
        let hasher = o.sourceSHA256 == nil ? FileHasher(path: o.input) : nil
        let key = NoiseKey(seed: o.seed, name: o.streamName)
        let deq = UniformDequantizer(binCount: info.binCount, range: range, key: key)
        let frames = Int(info.frames)
        let writer = try ValueWriter(output: out, format: format, type: type, frames: frames,
                                     channels: info.channels, sampleRate: info.sampleRate)
        let chunk = o.chunkFrames * info.channels
        switch type {
        case .float32:
            try stream(reader, chunk: chunk, threads: o.threads, as: Float.self,
                       dequantize: { deq.dequantize(bins: $0, firstIndex: $1, into: $2) },
                       write: { (v) throws in try writer.write(v) })
        case .float64:
            try stream(reader, chunk: chunk, threads: o.threads, as: Double.self,
                       dequantize: { deq.dequantize(bins: $0, firstIndex: $1, into: $2) },
                       write: { (v) throws in try writer.write(v) })
        }
        try writer.close()
        let sidecar = Sidecar(
            source: .init(path: o.input, sha256: try o.sourceSHA256 ?? hasher!.value(), container: info.container.rawValue,
                          encoding: info.encoding, binCount: info.binCount, sampleRate: info.sampleRate,
                          channels: info.channels, frames: frames),
            output: .init(format: format, dtype: type, layout: "interleaved", shape: [frames, info.channels]),
            dequantization: .init(method: "uniform", range: range, seed: o.seed, stream: key.stream,
                                  streamName: o.streamName, generator: "splitmix64-counter",
                                  encode: range.encodeFormula, decode: range.decodeFormula))
        if let sidecarOut { try sidecar.write(to: sidecarOut) }
        try out.commit()
        try sidecarOut?.commit()
        return sidecar
    }

    static func resolveType(format: ValueFormat, requested: ValueType?, encoding: SampleEncoding,
                            output: String) throws -> ValueType {
        if let forced = format.forcedType, let requested, requested != forced {
            throw AudioDQError.invalidArgument("\(output): --dtype \(requested.rawValue) contradicts the .\(format.rawValue) extension")
        }
        let type = format.forcedType ?? requested ?? (encoding == .pcm24 ? .float64 : .float32)
        if type == .float32 && encoding.bits > 16 {
            throw AudioDQError.float32CannotHold(path: output, encoding: encoding.displayName)
        }
        return type
    }

    /// The streaming loop: read a chunk of bins, dequantize it (sliced over threads), write it.
    /// `dequantize(bins, firstIndex, out)` fills `out` for sample indices firstIndex..<firstIndex+count.
    /// With more than one thread, writing chunk k overlaps reading and dequantizing chunk k + 1
    /// (two buffers, a writer thread): the write system calls are a large share of the work.
    static func stream<T>(_ reader: SoundFileReader, chunk: Int, threads: Int, as: T.Type,
                          dequantize: (UnsafeBufferPointer<UInt32>, Int, UnsafeMutableBufferPointer<T>) -> Void,
                          write: (UnsafeBufferPointer<T>) throws -> Void) throws {
        let slots = threads > 1 ? 2 : 1
        let bins = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: chunk)
        let values = (0..<slots).map { _ in UnsafeMutableBufferPointer<T>.allocate(capacity: chunk) }
        defer { bins.deallocate(); values.forEach { $0.deallocate() } }
        let channels = reader.info.channels
        let free = DispatchSemaphore(value: slots)
        let writer = DispatchQueue(label: "audiodq.writer")
        let failure = Mutex<Error?>(nil)
        var index = 0
        var k = 0
        try withoutActuallyEscaping(write) { write in
            let box = UncheckedBox(write)
            defer { writer.sync {} }
            while true {
                free.wait()
                if let e = failure.withLock({ $0 }) { free.signal(); throw e }
                let n: Int
                do { n = try reader.read(into: bins) * channels } catch let e as SoundFileError { free.signal(); throw AudioDQError.soundFile(e) }
                if n == 0 { free.signal(); break }
                let out = values[k % slots]
                let first = index
                parallel(n, threads: threads) { lo, hi in
                    dequantize(UnsafeBufferPointer(rebasing: bins[lo..<hi]), first + lo,
                               UnsafeMutableBufferPointer(rebasing: out[lo..<hi]))
                }
                let piece = UncheckedBox(UnsafeBufferPointer(rebasing: out[0..<n]))
                if slots == 1 {
                    defer { free.signal() }
                    try box.value(piece.value)
                } else {
                    writer.async {
                        do { try box.value(piece.value) } catch { failure.withLock { $0 = $0 ?? error } }
                        free.signal()
                    }
                }
                index += n
                k += 1
            }
            writer.sync {}
            if let e = failure.withLock({ $0 }) { throw e }
        }
    }

    /// Runs `body(lo, hi)` over `threads` contiguous slices of 0..<n (serially for one thread or
    /// small n). Slices never overlap, so results do not depend on the thread count.
    static func parallel(_ n: Int, threads: Int, _ body: (Int, Int) -> Void) {
        let parts = min(threads, max(1, n / 16384))
        if parts <= 1 { body(0, n); return }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                box.value(n * p / parts, n * (p + 1) / parts)
            }
        }
    }
}

/// Carries a non-Sendable value into `concurrentPerform`; the caller guarantees disjoint access.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
