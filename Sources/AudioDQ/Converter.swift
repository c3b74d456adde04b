import Foundation
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
        let state = reader.fileState
        // auto on linear PCM scans the codes first; with the default stream the source is hashed
        // meanwhile (else `convert` hashes it, while converting for a given stream name)
        let detect = options.settings.needsDetection(reader.info.encoding)
        let source = try SourceScan.scan(reader, path: options.input, raw: options.settings.raw,
                                         hash: detect && options.settings.streamName == nil, detect: detect)
        let resolved = try options.settings.resolve(for: source, target: .file(options.output), model: modelFile)
        let out = try AtomicOutput(path: options.output, force: options.force, inputs: [options.input])
        let logQ = try options.logQPath.map { try AtomicOutput(path: $0, force: options.force, inputs: [options.input]) }
        let sidecarTarget = options.sidecarPath ?? (out.isStream ? nil : Sidecar.path(for: options.output))
        let sidecar = try sidecarTarget.map { (p) throws in try AtomicOutput(path: p, force: options.force, inputs: [options.input]) }
        return try convert(reader, since: state, resolved, model: modelFile, into: Outputs(data: out, sidecar: sidecar, logQ: logQ),
                           recording: options.input, threads: options.threads, chunkFrames: options.chunkFrames,
                           hashOutput: options.hashOutput, flush: AtomicOutput.durable)
    }

    /// Opens a source for conversion.
    static func open(_ path: String, raw: RawFormat?) throws -> CodeReader {
        do { return try CodeReader(path: path, raw: raw) } catch { throw AudioDQError.soundFile(error) }
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
    static func convert(_ reader: CodeReader, since state: FileState?, _ resolved: ResolvedDequant, model modelFile: ModelFile?,
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
        let frames = Int(info.frames)
        let out = outputs.data
        let writer = try ValueWriter(output: out, format: resolved.format, type: type, frames: frames,
                                     channels: info.channels, sampleRate: info.sampleRate,
                                     hashing: hashOutput && !out.isStream)
        let logQTotal: Double?
        do {
            logQTotal = try DequantizingStream.convert(
                reader, dequantizer: DequantizingStream.dequantizer(model: model, quantizer: resolved.quantizer, range: range, key: key,
                                                                    channels: info.channels, threads: threads),
                type: type, chunkFrames: chunkFrames, writer: writer, logQOutput: outputs.logQ)
        } catch let DequantizationError.codeOffQuantizer(_, index, bin) {
            throw AudioDQError.quantizerContradicted(path: reader.path, quantizer: resolved.quantizer.description, index: index,
                                                     frame: index / info.channels, channel: index % info.channels,
                                                     value: info.encoding.isLinear ? bin - info.binCount / 2 : bin)
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
}
