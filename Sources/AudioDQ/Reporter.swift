import Foundation

/// What `audiodq report` does: spectral noise diagnostics of a dequantization, per channel, in
/// one streaming pass.
///
/// Without `dequantized`, the original is dequantized here exactly as `convert` would (same noise
/// key, range and dtype), so the report speaks for `convert`'s output with the same options.
/// With `dequantized` (`.f32/.f64/.npy/.wav` from audiodq or any other tool), its sidecar gives the
/// range unless `range` is given; the values must have the original's channel and frame counts.
public struct ReportOptions: Sendable {
    public var original: String
    public var dequantized: String?
    /// How to dequantize here, as `convert` with the same settings (range, dtype, seed, stream,
    /// method, model, raw; `format` does not apply). With `dequantized`: `range` is the range of
    /// its values when it has no sidecar (the sidecar's otherwise), and `method` is the noise
    /// judged, nil meaning the sidecar's method (uniform without one). A method given wins over
    /// the sidecar's (the sidecar only fills what is not given, as for `range`).
    public var settings = DequantSettings()
    public var config = DiagnosticsConfig()
    public var chunkFrames = 65536

    public init(original: String, settings: DequantSettings = DequantSettings()) {
        self.original = original
        self.settings = settings
    }
}

public enum Reporter {
    public static func run(_ options: ReportOptions) throws -> DiagnosticsReport {
        let reader = try Converter.open(options.original, raw: options.settings.raw)
        let info = reader.info
        // dequantizing here with `auto` on linear PCM: the codes are scanned for their quantizer
        // first (the reader rewinds); with --dequantized the sidecar's quantizer is the default
        let detect = options.dequantized == nil && options.settings.needsDetection(info.encoding)
        let source = try SourceScan.scan(reader, path: options.original, raw: options.settings.raw, hash: false, detect: detect)
        let settings = options.settings
        if options.settings.method == .variational && options.dequantized == nil {
            // dequantize with q exactly as `convert --method variational` would (the same
            // resolution: the dtype asked for, float64 for 24-bit), then judge that
            let modelFile = try options.settings.loadModel()
            let resolved = try settings.resolve(for: source, target: .values, model: modelFile)
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-report-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tmp) }
            let y = tmp.appendingPathComponent("y." + resolved.format.rawValue).path
            let outputs = Converter.Outputs(data: try AtomicOutput(path: y, force: true, inputs: [options.original]),
                                            sidecar: try AtomicOutput(path: Sidecar.path(for: y), force: true, inputs: [options.original]))
            _ = try Converter.convert(reader, since: reader.fileState, resolved, model: modelFile, into: outputs,
                                  recording: options.original, threads: 2, chunkFrames: Converter.defaultChunkFrames,
                                  hashOutput: false, flush: false)
            var judged = options
            judged.dequantized = y
            var report = try run(judged)
            report.dequantized = nil
            return report
        }
        let k = info.binCount
        let ch = info.channels
        let total = Int(info.frames) * ch

        var values: ValueReader?
        var resolved: ResolvedDequant?
        var cells: Quantizer = .container(info.encoding)
        var reason = "asked for"
        let range: DequantRange
        let precision: ValuePrecision
        var extra = ["encoding": info.encoding.rawValue, "tool": "audiodq \(AudioDQVersion.string)"]
        if let y = options.dequantized {
            let scPath = Sidecar.path(for: y)
            let sidecar = FileSystem.exists(scPath) ? try Sidecar.load(path: scPath) : nil
            guard let r = options.settings.range ?? sidecar?.dequantization.range else {
                throw AudioDQError.missingSidecar(path: y, sidecar: scPath)
            }
            range = r
            let v = try ValueReader(path: y, channels: sidecar?.source.channels ?? ch)
            if let vc = v.channels, vc != ch {
                throw AudioDQError.mismatch(path: y, detail: "has \(vc) channels, \(options.original) has \(ch)")
            }
            guard v.count == total else {
                throw AudioDQError.mismatch(path: y, detail: "holds \(v.count) values, \(options.original) has \(info.frames) frames x \(ch) channels = \(total)")
            }
            if let sidecar, sidecar.source.binCount != k {
                throw AudioDQError.mismatch(path: y, detail: "sidecar says K = \(sidecar.source.binCount), \(options.original) has K = \(k)")
            }
            precision = v.type == .float32 ? .float32 : .float64
            values = v
            // the cells judged: a quantizer given wins over the sidecar's (auto: the sidecar's,
            // container without one); --domain linear asks for G.711 cells of G.711 bytes (linear
            // PCM has no code domain: there it leaves auto to the sidecar)
            if settings.quantizer != .auto || (settings.domain == .linear && !info.encoding.isLinear) {
                (cells, reason) = try settings.resolveQuantizer(for: source)
            } else {
                cells = sidecar?.resolved?.quantizer ?? .container(info.encoding)
                reason = "the sidecar's" + (sidecar?.dequantization.quantizer?.reason.map { " (\($0))" } ?? "")
            }
            if let m = options.settings.method?.rawValue ?? sidecar?.dequantization.method { extra["method"] = m }
            if let m = sidecar?.dequantization.model { extra["model"] = m }
            if let s = sidecar?.dequantization.seed { extra["seed"] = String(s) }
        } else {
            let r = try settings.resolve(for: source, target: .values, model: nil)
            resolved = r
            cells = r.quantizer
            reason = r.quantizerReason ?? reason
            range = r.range
            precision = r.dtype == .float32 ? .float32 : .float64
            extra["method"] = r.method.rawValue
            extra["seed"] = String(r.seed)
        }
        var config = options.config
        if extra["method"] == DequantMethod.variational.rawValue { config.noiseKind = .learned }
        var analyzers: [ChannelAnalyzer] = []
        do {
            for _ in 0..<ch {
                let analyzer = try ChannelAnalyzer(config: config, sampleRate: Double(info.sampleRate),
                                                   binCount: k, range: range, precision: precision)
                analyzer.quantizer = cells
                analyzers.append(analyzer)
            }
        } catch { throw AudioDQError.invalidArgument("\(options.original): \(error)") }

        // the noise key only matters when dequantizing here: then its default is convert's, the
        // SHA-256 of the bytes read (hashed from the reader's descriptor; a file whose state moves
        // between the hash and the last read is refused, as by convert)
        let state = reader.fileState
        let streamName = try resolved.map { try $0.streamName ?? FileHasher.hash(reader: reader) } ?? ""
        FileHasher.afterHashing(options.original)
        // one pass of the streaming loop: the values are dequantized here (uniform, in the output
        // precision, as `convert` writes them) or replayed from the dequantized file
        let feeder = ChannelFeeder(analyzers: analyzers, chunkFrames: options.chunkFrames)
        if let values {
            let replay = ReplayedValues(reader: values, path: options.dequantized!)
            try DequantizingStream.run(reader, dequantizer: replay, as: Double.self, preferredFrames: options.chunkFrames) {
                feeder.add(codes: $0.codes, values: $0.values)
            }
        } else {
            let uniform = CellDequantizer(quantizer: cells, range: range, key: NoiseKey(seed: resolved!.seed, name: streamName))
            if precision == .float32 {
                try DequantizingStream.run(reader, dequantizer: uniform, as: Float.self, preferredFrames: options.chunkFrames) {
                    feeder.add(codes: $0.codes, values: $0.values)
                }
            } else {
                try DequantizingStream.run(reader, dequantizer: uniform, as: Double.self, preferredFrames: options.chunkFrames) {
                    feeder.add(codes: $0.codes, values: $0.values)
                }
            }
        }
        try FileHasher.checkUnchanged(reader, since: state, path: options.original)
        var reports: [ChannelReport] = []
        for a in analyzers {
            do { reports.append(try a.finish()) } catch {
                throw AudioDQError.malformed(path: options.dequantized ?? options.original, reason: "\(error)")
            }
        }
        return DiagnosticsReport(source: options.original, dequantized: options.dequantized, sampleRate: Double(info.sampleRate),
                                 binCount: k, range: range, config: config, channels: reports, extra: extra,
                                 quantizer: JudgedCells(cells, reason: reason))
    }

    /// Writes a report file atomically (temporary file, then rename).
    public static func writeAtomically(_ data: Data, to path: String, inputs: [String]) throws {
        try AtomicOutput.write([UInt8](data), to: path, force: true, inputs: inputs)
    }
}

/// Hands interleaved blocks of codes and values to one analyzer per channel, split into
/// channels in buffers of `chunkFrames` frames (float32 values widened exactly to float64).
private final class ChannelFeeder {
    private let analyzers: [ChannelAnalyzer]
    private let codes: UnsafeMutableBufferPointer<UInt32>
    private let values: UnsafeMutableBufferPointer<Double>
    private let widened: UnsafeMutableBufferPointer<Double>

    init(analyzers: [ChannelAnalyzer], chunkFrames: Int) {
        self.analyzers = analyzers
        let split = analyzers.count > 1 ? chunkFrames : 0
        codes = .allocate(capacity: split)
        values = .allocate(capacity: split)
        widened = .allocate(capacity: chunkFrames * analyzers.count)
    }

    deinit {
        codes.deallocate()
        values.deallocate()
        widened.deallocate()
    }

    func add(codes c: UnsafeBufferPointer<UInt32>, values y: UnsafeBufferPointer<Double>) {
        let ch = analyzers.count
        if ch == 1 { analyzers[0].add(codes: c, values: y); return }
        let frames = c.count / ch
        for channel in 0..<ch {
            for f in 0..<frames { codes[f] = c[f * ch + channel]; values[f] = y[f * ch + channel] }
            analyzers[channel].add(codes: UnsafeBufferPointer(rebasing: codes[0..<frames]),
                                   values: UnsafeBufferPointer(rebasing: values[0..<frames]))
        }
    }

    func add(codes c: UnsafeBufferPointer<UInt32>, values y: UnsafeBufferPointer<Float>) {
        for i in y.indices { widened[i] = Double(y[i]) }
        add(codes: c, values: UnsafeBufferPointer(rebasing: widened[0..<y.count]))
    }
}

/// Values dequantized elsewhere, replayed from their file in step with the codes (`report
/// --dequantized`): blocks of `preferredFrames` frames, float64 only (every value format widens
/// exactly to it).
private struct ReplayedValues: Dequantizer {
    let reader: ValueReader
    let path: String

    var producesLogQ: Bool { false }

    func block(startingAt start: Int, of layout: StreamLayout, preferredFrames: Int) -> DequantizationBlock {
        let end = min(layout.frames, start + max(1, preferredFrames))
        return DequantizationBlock(frames: start..<end, codeFrames: start..<end, layout: layout)
    }

    func dequantize<Value: DequantizedValue>(_ block: DequantizationBlock, codes: UnsafeBufferPointer<UInt32>,
                                             into values: UnsafeMutableBufferPointer<Value>,
                                             logQ: UnsafeMutableBufferPointer<Float>?) throws {
        precondition(Value.self == Double.self, "replayed values are read as float64")
        let out = UnsafeMutableRawPointer(values.baseAddress!).assumingMemoryBound(to: Double.self)
        let got = try reader.read(into: UnsafeMutableBufferPointer(start: out, count: block.sampleCount))
        guard got == block.sampleCount else { throw AudioDQError.malformed(path: path, reason: "ended early") }
    }
}
