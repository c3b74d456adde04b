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
    /// Names the noise stream (hashed with FNV-1a 64 into the key). nil, the default in single
    /// and batch conversion: the source file's SHA-256 in lowercase hex (`source.sha256` of the
    /// sidecar), so different files get independent noise and the same content the same bytes
    /// under any name or folder. The sidecar records the name used (`streamName`) and, for the
    /// default, `streamSource: "source-sha256"`.
    public var streamName: String?
    public var force = false
    public var threads = 1
    public var chunkFrames = 65536
    /// Where to write the sidecar; nil: OUT + ".json" (none for device/FIFO outputs).
    public var sidecarPath: String?
    /// The sidecar's `source.path`; nil: `input` as given. Batch conversion records the path
    /// relative to the corpus root, so runs from different working folders write the same sidecar.
    public var recordedSourcePath: String?
    /// The source's SHA-256 when the caller already has it (batch conversion hashes first).
    public var sourceSHA256: String?
    /// The source's state when `sourceSHA256` was computed: the conversion refuses a file
    /// whose state differs (`sourceChanged`).
    var sourceState: FileState?
    /// `variational` draws u from the trained q(u | x) of `modelPath`.
    public var method: DequantMethod = .uniform
    public var modelPath: String?
    /// Variational only: also write log q(u | x) per sample (float32, interleaved) here.
    public var logQPath: String?
    /// Also record the output's SHA-256 in the sidecar (`output.sha256`), hashed while writing.
    /// Batch conversion always does (its manifest lists it); a single conversion only on request:
    /// it is the largest single cost of converting (SHA-256 runs at about 1.5 GB/s, the output is
    /// twice the input's size).
    public var hashOutput = false

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }
}

public enum Converter {
    /// Converts one file; returns the sidecar that was written.
    @discardableResult
    public static func run(_ o: ConvertOptions) throws -> Sidecar {
        try run(o, claimed: nil)
    }

    /// `claimed`, `claimedSidecar`: the output and its sidecar already claimed by batch conversion
    /// (`AtomicOutput(claiming:)`). `flush`: fsync the outputs before reporting them written
    /// (batch conversion flushes once for the whole run instead).
    static func run(_ o: ConvertOptions, claimed: AtomicOutput?, claimedSidecar: AtomicOutput? = nil,
                    flush: Bool = AtomicOutput.durable) throws -> Sidecar {
        guard let format = o.format ?? ValueFormat(path: o.output) else {
            throw AudioDQError.unknownOutputFormat(path: o.output, allowed: ValueFormat.extensionsText)
        }
        guard o.chunkFrames > 0, o.threads > 0 else { throw AudioDQError.invalidArgument("chunk size and threads must be positive") }
        let reader: SoundFileReader
        do { reader = try SoundFileReader(path: o.input, raw: o.raw) } catch { throw AudioDQError.soundFile(error) }
        let info = reader.info
        let type = try resolveType(format: format, requested: o.dtype, encoding: info.encoding, input: o.input, output: o.output)
        let range = o.range ?? (format == .wav ? .symmetric : .unit)

        var model: DequantModel?
        var modelSHA256: String?
        if o.method == .variational {
            guard let mp = o.modelPath else { throw AudioDQError.modelRequired(method: .variational) }
            let file = try ModelFile(path: mp)
            let m = file.model
            modelSHA256 = file.sha256
            guard m.method == .variational else { throw DequantizationError.wrongMethod(path: mp, expected: .variational, found: m.method) }
            guard m.binCount == info.binCount else {
                throw DequantizationError.binCountMismatch(path: mp, model: m.binCount, data: info.binCount)
            }
            // q streams in fixed windows (cores of 16,384 frames plus context), whatever the chunk
            // size; a chunk too short to hold q's receptive field is refused all the same
            if let q = m.noise?.configuration, o.chunkFrames < q.receptiveField {
                throw AudioDQError.chunkShorterThanModelContext(path: o.input, chunkFrames: o.chunkFrames, receptiveField: q.receptiveField)
            }
            model = m
        }
        let out = try claimed ?? AtomicOutput(path: o.output, force: o.force, inputs: [o.input])
        let logQOut = try o.logQPath.map { try AtomicOutput(path: $0, force: o.force, inputs: [o.input]) }
        let sidecarTarget = o.sidecarPath ?? (out.isStream ? nil : Sidecar.path(for: o.output))
        let sidecarOut = try claimedSidecar ?? sidecarTarget.map { (p) throws in
            try AtomicOutput(path: p, force: o.force, inputs: [o.input])
        }
        // the sidecar vouches for the bytes converted: the source is hashed from the descriptor
        // the samples are read from, and refused if its state moves between the hash and the
        // last read. The default stream is the source's SHA-256, needed before the first draw;
        // a given name lets the source be hashed on another thread while converting
        let state = reader.fileState
        if let expected = o.sourceState, expected != state { throw AudioDQError.sourceChanged(path: o.input) }
        let knownSHA256 = try o.sourceSHA256 ?? (o.streamName == nil ? FileHasher.hash(reader: reader) : nil)
        let hasher = knownSHA256 == nil ? FileHasher(reader: reader) : nil
        FileHasher.afterHashing(o.input)
        let streamName = o.streamName ?? knownSHA256!
        let key = NoiseKey(seed: o.seed, name: streamName)
        let deq = UniformDequantizer(binCount: info.binCount, range: range, key: key)
        let frames = Int(info.frames)
        let writer = try ValueWriter(output: out, format: format, type: type, frames: frames,
                                     channels: info.channels, sampleRate: info.sampleRate,
                                     hashing: o.hashOutput && !out.isStream)
        var logQTotal: Double?
        if let model {
            let lqWriter = try logQOut.map {
                try ValueWriter(output: $0, format: .f32, type: .float32, frames: frames, channels: info.channels, sampleRate: info.sampleRate)
            }
            logQTotal = try streamVariational(reader, model: model, range: range, key: key, threads: o.threads, type: type,
                                              writer: writer, logQWriter: lqWriter)
            try lqWriter?.close()
        } else {
            // buffers no larger than the file: short files do not pay for a full chunk
            let chunk = max(1, min(o.chunkFrames, frames)) * info.channels
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
        }
        try writer.close()
        let sourceSHA256 = try knownSHA256 ?? hasher!.value()
        try FileHasher.checkUnchanged(reader, since: state, path: o.input)
        let sidecar = Sidecar(
            source: .init(path: o.recordedSourcePath ?? o.input, sha256: sourceSHA256, container: info.container.rawValue,
                          encoding: info.encoding, binCount: info.binCount, sampleRate: info.sampleRate,
                          channels: info.channels, frames: frames, raw: o.raw?.spec),
            output: .init(format: format, dtype: type, layout: "interleaved", shape: [frames, info.channels],
                          sha256: try writer.digest()),
            dequantization: .init(method: o.method.rawValue, range: range, seed: o.seed, stream: key.stream,
                                  streamName: streamName,
                                  streamSource: o.streamName == nil ? Sidecar.streamFromSourceSHA256 : nil,
                                  generator: "wyrand-counter", uVariant: Sidecar.uVariant(method: o.method, dtype: type),
                                  encode: range.encodeFormula, decode: range.decodeFormula,
                                  model: o.modelPath, logQTotalNats: logQTotal, modelSHA256: modelSHA256))
        if let sidecarOut { try sidecar.write(to: sidecarOut) }
        // the sidecar vouches for the data: it goes into place last, or not at all
        try AtomicOutput.commit([out] + (logQOut.map { [$0] } ?? []), voucher: sidecarOut, flush: flush)
        return sidecar
    }

    static func resolveType(format: ValueFormat, requested: ValueType?, encoding: SampleEncoding,
                            input: String, output: String) throws -> ValueType {
        if let forced = format.forcedType, let requested, requested != forced {
            throw AudioDQError.dtypeContradictsFormat(path: output, dtype: requested, format: format)
        }
        let type = format.forcedType ?? requested ?? (encoding == .pcm24 ? .float64 : .float32)
        if type == .float32 && encoding.bits > 16 {
            throw AudioDQError.float32CannotHold(path: input, encoding: encoding.displayName, output: output)
        }
        return type
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
