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
        let source = DequantSource(path: options.original, info: info, raw: options.settings.raw)
        if options.settings.method == .variational && options.dequantized == nil {
            // dequantize with q exactly as `convert --method variational` would (the same
            // resolution: the dtype asked for, float64 for 24-bit), then judge that
            let modelFile = try options.settings.loadModel()
            let resolved = try options.settings.resolve(for: source, target: .values, model: modelFile)
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
            if let m = options.settings.method?.rawValue ?? sidecar?.dequantization.method { extra["method"] = m }
            if let m = sidecar?.dequantization.model { extra["model"] = m }
            if let s = sidecar?.dequantization.seed { extra["seed"] = String(s) }
        } else {
            let r = try options.settings.resolve(for: source, target: .values, model: nil)
            resolved = r
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
                analyzers.append(try ChannelAnalyzer(config: config, sampleRate: Double(info.sampleRate),
                                                     binCount: k, range: range, precision: precision))
            }
        } catch { throw AudioDQError.invalidArgument("\(options.original): \(error)") }

        // the noise key only matters when dequantizing here: then its default is convert's, the
        // SHA-256 of the bytes read (hashed from the reader's descriptor; a file whose state moves
        // between the hash and the last read is refused, as by convert)
        let state = reader.fileState
        let streamName = try resolved.map { try $0.streamName ?? FileHasher.hash(reader: reader) } ?? ""
        FileHasher.afterHashing(options.original)
        let deq = UniformDequantizer(binCount: k, range: range, key: NoiseKey(seed: options.settings.seed, name: streamName))
        let chunk = options.chunkFrames * ch
        var bins = [UInt32](repeating: 0, count: chunk)
        var y = [Double](repeating: 0, count: chunk)
        var yf = [Float](repeating: 0, count: precision == .float32 && values == nil ? chunk : 0)
        var cc = [UInt32](repeating: 0, count: options.chunkFrames)
        var cy = [Double](repeating: 0, count: options.chunkFrames)
        var index = 0
        while true {
            let n: Int
            do { n = try bins.withUnsafeMutableBufferPointer { try reader.read(into: $0) } * ch }
            catch { throw AudioDQError.soundFile(error as! SoundFileError) }
            if n == 0 { break }
            if let values {
                let got = try y.withUnsafeMutableBufferPointer { try values.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
                guard got == n else { throw AudioDQError.malformed(path: options.dequantized!, reason: "ended early") }
            } else if precision == .float32 {
                bins.withUnsafeBufferPointer { b in
                    yf.withUnsafeMutableBufferPointer { deq.dequantize(bins: UnsafeBufferPointer(rebasing: b[0..<n]), firstIndex: index,
                                                                       into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
                }
                for i in 0..<n { y[i] = Double(yf[i]) }
            } else {
                bins.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { deq.dequantize(bins: UnsafeBufferPointer(rebasing: b[0..<n]), firstIndex: index,
                                                                      into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
                }
            }
            let frames = n / ch
            for c in 0..<ch {
                for f in 0..<frames { cc[f] = bins[f * ch + c]; cy[f] = y[f * ch + c] }
                cc.withUnsafeBufferPointer { pc in
                    cy.withUnsafeBufferPointer { py in
                        analyzers[c].add(codes: UnsafeBufferPointer(rebasing: pc[0..<frames]), values: UnsafeBufferPointer(rebasing: py[0..<frames]))
                    }
                }
            }
            index += n
        }
        try FileHasher.checkUnchanged(reader, since: state, path: options.original)
        var reports: [ChannelReport] = []
        for a in analyzers {
            do { reports.append(try a.finish()) } catch {
                throw AudioDQError.malformed(path: options.dequantized ?? options.original, reason: "\(error)")
            }
        }
        return DiagnosticsReport(source: options.original, dequantized: options.dequantized, sampleRate: Double(info.sampleRate),
                                 binCount: k, range: range, config: config, channels: reports, extra: extra)
    }

    /// Writes a report file atomically (temporary file, then rename).
    public static func writeAtomically(_ data: Data, to path: String, inputs: [String]) throws {
        try AtomicOutput.write([UInt8](data), to: path, force: true, inputs: inputs)
    }
}
