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
    /// What to do (format, range, dtype, seed, stream, method, model, raw), shared with batch
    /// conversion and `report`; its defaults are decided by `DequantSettings.resolve`. The sidecar
    /// records the default stream as `streamSource: "source-sha256"`.
    public var settings = DequantSettings()
    public var force = false
    public var threads = 1
    public var chunkFrames = Converter.defaultChunkFrames
    /// Where to write the sidecar; nil: OUT + ".json" (none for device/FIFO outputs).
    public var sidecarPath: String?
    /// Variational only: also write log q(u | x) per sample (float32, interleaved) here.
    public var logQPath: String?
    /// Also record the output's SHA-256 in the sidecar (`output.sha256`), hashed while writing.
    /// Batch conversion always does (its manifest lists it); a single conversion only on request:
    /// it is the largest single cost of converting (SHA-256 runs at about 1.5 GB/s, the output is
    /// twice the input's size).
    public var hashOutput = false

    public init(input: String, output: String, settings: DequantSettings = DequantSettings()) {
        self.input = input
        self.output = output
        self.settings = settings
    }
}

public enum Converter {
    /// Frames per streaming chunk unless given (batch conversion always uses it).
    public static let defaultChunkFrames = 65536

    /// Converts one file; returns the sidecar that was written.
    @discardableResult
    public static func run(_ options: ConvertOptions) throws -> Sidecar {
        guard options.chunkFrames > 0, options.threads > 0 else { throw AudioDQError.invalidArgument("chunk size and threads must be positive") }
        let reader = try open(options.input, raw: options.settings.raw)
        let modelFile = try options.settings.loadModel()
        let resolved = try options.settings.resolve(for: DequantSource(path: options.input, info: reader.info, raw: options.settings.raw),
                                                    target: .file(options.output), model: modelFile)
        let out = try AtomicOutput(path: options.output, force: options.force, inputs: [options.input])
        let logQ = try options.logQPath.map { try AtomicOutput(path: $0, force: options.force, inputs: [options.input]) }
        let sidecarTarget = options.sidecarPath ?? (out.isStream ? nil : Sidecar.path(for: options.output))
        let sidecar = try sidecarTarget.map { (p) throws in try AtomicOutput(path: p, force: options.force, inputs: [options.input]) }
        return try convert(reader, since: reader.fileState, resolved, model: modelFile, into: Outputs(data: out, sidecar: sidecar, logQ: logQ),
                           recording: options.input, threads: options.threads, chunkFrames: options.chunkFrames,
                           hashOutput: options.hashOutput, flush: AtomicOutput.durable)
    }

    /// Opens a source for conversion.
    static func open(_ path: String, raw: RawFormat?) throws -> SoundFileReader {
        do { return try SoundFileReader(path: path, raw: raw) } catch { throw AudioDQError.soundFile(error) }
    }

    /// The outputs of one conversion, already claimed: the values, their sidecar (none for a
    /// device or FIFO output), and variational log q per sample.
    struct Outputs {
        var data: AtomicOutput
        var sidecar: AtomicOutput?
        var logQ: AtomicOutput? = nil
    }

    /// The one conversion, which a single conversion and each file of a batch run: `reader`'s
    /// samples dequantized as `resolved` says into the claimed `outputs`; returns the sidecar.
    ///
    /// The sidecar vouches for the bytes converted: the source is hashed from the descriptor the
    /// samples are read from (unless `resolved.sourceSHA256` already is, by the caller, from that
    /// descriptor), and refused if its state moves from `state` (taken before the hash) to the
    /// last read. The default stream is the source's SHA-256, needed before the first draw; a given
    /// name lets the source be hashed on another thread while converting. `recording`: the
    /// sidecar's `source.path`. `flush`: fsync the outputs before reporting them written (batch
    /// conversion flushes once for the whole run instead). The sidecar goes into place last.
    static func convert(_ reader: SoundFileReader, since state: FileState?, _ resolved: ResolvedDequant, model modelFile: ModelFile?,
                        into outputs: Outputs, recording sourcePath: String, threads: Int, chunkFrames: Int,
                        hashOutput: Bool, flush: Bool) throws -> Sidecar {
        let info = reader.info
        var model: DequantModel?
        if let modelFile {
            // q streams in fixed windows (cores of 16,384 frames plus context), whatever the chunk
            // size; a chunk too short to hold q's receptive field is refused all the same
            if chunkFrames < modelFile.receptiveField {
                throw AudioDQError.chunkShorterThanModelContext(path: reader.path, chunkFrames: chunkFrames, receptiveField: modelFile.receptiveField)
            }
            model = try modelFile.makeModel()
        }
        var resolved = resolved
        if resolved.sourceSHA256 == nil && resolved.stream == .sourceSHA256 {
            resolved.sourceSHA256 = try FileHasher.hash(reader: reader)
        }
        let hasher = resolved.sourceSHA256 == nil ? FileHasher(reader: reader) : nil
        FileHasher.afterHashing(reader.path)
        let key = NoiseKey(seed: resolved.seed, name: resolved.streamName!)
        let range = resolved.range, type = resolved.dtype
        let deq = UniformDequantizer(binCount: info.binCount, range: range, key: key)
        let frames = Int(info.frames)
        let out = outputs.data
        let writer = try ValueWriter(output: out, format: resolved.format, type: type, frames: frames,
                                     channels: info.channels, sampleRate: info.sampleRate,
                                     hashing: hashOutput && !out.isStream)
        var logQTotal: Double?
        if let model {
            let lqWriter = try outputs.logQ.map {
                try ValueWriter(output: $0, format: .f32, type: .float32, frames: frames, channels: info.channels, sampleRate: info.sampleRate)
            }
            logQTotal = try streamVariational(reader, model: model, range: range, key: key, threads: threads, type: type,
                                              writer: writer, logQWriter: lqWriter)
            try lqWriter?.close()
        } else {
            // buffers no larger than the file: short files do not pay for a full chunk
            let chunk = max(1, min(chunkFrames, frames)) * info.channels
            switch type {
            case .float32:
                try stream(reader, chunk: chunk, threads: threads, as: Float.self,
                           dequantize: { deq.dequantize(bins: $0, firstIndex: $1, into: $2) },
                           write: { (v) throws in try writer.write(v) })
            case .float64:
                try stream(reader, chunk: chunk, threads: threads, as: Double.self,
                           dequantize: { deq.dequantize(bins: $0, firstIndex: $1, into: $2) },
                           write: { (v) throws in try writer.write(v) })
            }
        }
        try writer.close()
        if let hasher { resolved.sourceSHA256 = try hasher.value() }
        try FileHasher.checkUnchanged(reader, since: state, path: reader.path)
        let sidecar = Sidecar(resolved: resolved, info: info, frames: frames, sourcePath: sourcePath,
                              modelPath: modelFile?.path, outputSHA256: try writer.digest(), logQTotalNats: logQTotal)
        if let voucher = outputs.sidecar { try sidecar.write(to: voucher) }
        // the sidecar vouches for the data: it goes into place last, or not at all
        try AtomicOutput.commit([out] + (outputs.logQ.map { [$0] } ?? []), voucher: outputs.sidecar, flush: flush)
        return sidecar
    }

    /// The streaming loop: read a chunk of bins, dequantize it (sliced over threads), write it.
    /// `dequantize(bins, firstIndex, out)` fills `out` for sample indices firstIndex..<firstIndex+count.
    /// Writing chunk k overlaps reading and dequantizing chunk k + 1 (two buffers, a writer
    /// thread): the write system calls are a large share of the work.
    static func stream<T>(_ reader: SoundFileReader, chunk: Int, threads: Int, as: T.Type,
                          dequantize: (UnsafeBufferPointer<UInt32>, Int, UnsafeMutableBufferPointer<T>) -> Void,
                          write: (UnsafeBufferPointer<T>) throws -> Void) throws {
        // a writer thread pays only when there is more than one chunk to overlap
        let slots = Int(reader.info.frames) * reader.info.channels > chunk ? 2 : 1
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

    /// Variational streaming: windows of `VariationalDequantizer` over a sliding buffer of frames,
    /// batched 8 at a time; writes values (and per-sample log q); returns the total log q in nats.
    static func streamVariational(_ reader: SoundFileReader, model: DequantModel, range: DequantRange, key: NoiseKey,
                                  threads: Int, type: ValueType, writer: ValueWriter, logQWriter: ValueWriter?) throws -> Double {
        let ch = reader.info.channels
        let frames = Int(reader.info.frames)
        let vq = try VariationalDequantizer(model: model, range: range, key: key, channels: ch, threads: threads)
        let windows = vq.windows(frames: frames)
        var buf: [UInt32] = []          // frames bufStart..<bufStart + buf.count / ch
        var bufStart = 0
        var readChunk = [UInt32](repeating: 0, count: 65536 * ch)
        var total = 0.0
        let k = model.binCount
        let scale = range.scale(binCount: k), offset = range.offset(binCount: k)
        var i = 0
        while i < windows.count {
            var j = i + 1
            let len = windows[i].hi - windows[i].lo
            while j < windows.count && j - i < 8 && windows[j].hi - windows[j].lo == len { j += 1 }
            let group = Array(windows[i..<j])
            // frames needed: group.first.lo ..< group.last.hi
            let need = group.last!.hi
            let drop = group.first!.lo - bufStart
            if drop > 0 { buf.removeFirst(drop * ch); bufStart += drop }
            while bufStart + buf.count / ch < need {
                let n: Int
                do { n = try readChunk.withUnsafeMutableBufferPointer { try reader.read(into: $0) } }
                catch let e as SoundFileError { throw AudioDQError.soundFile(e) }
                if n == 0 { throw AudioDQError.soundFile(.truncated(path: reader.path, expectedFrames: Int64(frames), gotFrames: Int64(bufStart + buf.count / ch))) }
                buf.append(contentsOf: readChunk[0..<(n * ch)])
            }
            let coreLo = group.first!.coreLo, coreHi = group.last!.coreHi
            let count = (coreHi - coreLo) * ch
            var u = [Float](repeating: 0, count: count)
            var lq = [Float](repeating: 0, count: count)
            try buf.withUnsafeBufferPointer { b in
                try u.withUnsafeMutableBufferPointer { up in
                    try lq.withUnsafeMutableBufferPointer { lp in
                        try vq.run(windows: group, bins: b, base: bufStart, u: up.baseAddress!, logq: lp.baseAddress!, outBase: coreLo)
                    }
                }
            }
            let first = (coreLo - bufStart) * ch
            switch type {
            case .float32:
                let y = (0..<count).map { UniformDequantizer.place(bin: Int(buf[first + $0]), u: Double(u[$0]), offset: offset, scale: scale, as: Float.self) }
                try y.withUnsafeBufferPointer { try writer.write($0) }
            case .float64:
                let y = (0..<count).map { UniformDequantizer.place(bin: Int(buf[first + $0]), u: Double(u[$0]), offset: offset, scale: scale, as: Double.self) }
                try y.withUnsafeBufferPointer { try writer.write($0) }
            }
            for v in lq { total += Double(v) }
            if let logQWriter { try lq.withUnsafeBufferPointer { try logQWriter.write($0) } }
            i = j
        }
        return total
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
