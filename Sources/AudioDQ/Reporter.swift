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
    public var raw: RawFormat?
    public var dequantized: String?
    public var range: DequantRange?
    public var dtype: ValueType?
    public var seed: UInt64 = 0
    /// nil: the original's SHA-256, as `convert` (see `ConvertOptions.streamName`).
    public var streamName: String?
    public var config = DiagnosticsConfig()
    public var chunkFrames = 65536
    /// `variational`: dequantize with the trained q of `modelPath` (or, with `dequantized`, judge
    /// it as learned noise); the checks that hold for learned noise apply. nil: the sidecar's
    /// method for `dequantized`, uniform otherwise. A method given here wins over the sidecar's
    /// (the sidecar only fills what is not given, as for `range`).
    public var method: DequantMethod?
    public var modelPath: String?

    public init(original: String) { self.original = original }
}

public enum Reporter {
    public static func run(_ o: ReportOptions) throws -> DiagnosticsReport {
        if o.method == .variational && o.dequantized == nil {
            // dequantize with q exactly as `convert --method variational` would, then judge that
            let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-report-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: tmp) }
            let info: SoundFileInfo
            do { info = try SoundFileReader(path: o.original, raw: o.raw).info } catch { throw AudioDQError.soundFile(error) }
            // the dtype as when dequantizing uniformly here (float64 for 24-bit unless given)
            let type = o.dtype ?? (info.encoding.bits > 16 ? .float64 : .float32)
            var c = ConvertOptions(input: o.original, output: tmp.appendingPathComponent(type == .float64 ? "y.f64" : "y.f32").path)
            c.raw = o.raw
            c.range = o.range
            c.seed = o.seed
            c.streamName = o.streamName
            c.method = .variational
            c.modelPath = o.modelPath
            c.threads = 2
            try Converter.run(c)
            var r = o
            r.dequantized = c.output
            var report = try run(r)
            report.dequantized = nil
            return report
        }
        let reader: SoundFileReader
        do { reader = try SoundFileReader(path: o.original, raw: o.raw) } catch { throw AudioDQError.soundFile(error) }
        let info = reader.info
        let k = info.binCount
        let ch = info.channels
        let total = Int(info.frames) * ch

        var values: ValueReader?
        let range: DequantRange
        let precision: ValuePrecision
        var extra = ["encoding": info.encoding.rawValue, "tool": "audiodq \(AudioDQVersion.string)"]
        if let y = o.dequantized {
            let scPath = Sidecar.path(for: y)
            let sidecar = FileSystem.exists(scPath) ? try Sidecar.load(path: scPath) : nil
            guard let r = o.range ?? sidecar?.dequantization.range else {
                throw AudioDQError.missingSidecar(path: y, sidecar: scPath)
            }
            range = r
            let v = try ValueReader(path: y, channels: sidecar?.source.channels ?? ch)
            if let vc = v.channels, vc != ch {
                throw AudioDQError.mismatch(path: y, detail: "has \(vc) channels, \(o.original) has \(ch)")
            }
            guard v.count == total else {
                throw AudioDQError.mismatch(path: y, detail: "holds \(v.count) values, \(o.original) has \(info.frames) frames x \(ch) channels = \(total)")
            }
            if let sidecar, sidecar.source.binCount != k {
                throw AudioDQError.mismatch(path: y, detail: "sidecar says K = \(sidecar.source.binCount), \(o.original) has K = \(k)")
            }
            precision = v.type == .float32 ? .float32 : .float64
            values = v
            if let m = o.method?.rawValue ?? sidecar?.dequantization.method { extra["method"] = m }
            if let m = sidecar?.dequantization.model { extra["model"] = m }
            if let s = sidecar?.dequantization.seed { extra["seed"] = String(s) }
        } else {
            range = o.range ?? .unit
            let type = o.dtype ?? (info.encoding.bits > 16 ? .float64 : .float32)
            if type == .float32 && info.encoding.bits > 16 {
                throw AudioDQError.float32CannotHold(path: o.original, encoding: info.encoding.displayName)
            }
            precision = type == .float32 ? .float32 : .float64
            extra["method"] = "uniform"
            extra["seed"] = String(o.seed)
        }
        var config = o.config
        if extra["method"] == DequantMethod.variational.rawValue { config.noiseKind = .learned }
        var analyzers: [ChannelAnalyzer] = []
        do {
            for _ in 0..<ch {
                analyzers.append(try ChannelAnalyzer(config: config, sampleRate: Double(info.sampleRate),
                                                     binCount: k, range: range, precision: precision))
            }
        } catch { throw AudioDQError.invalidArgument("\(o.original): \(error)") }

        // the noise key only matters when dequantizing here: then its default is convert's, the
        // SHA-256 of the bytes read (hashed from the reader's descriptor; a file whose state moves
        // between the hash and the last read is refused, as by convert)
        let state = reader.fileState
        let streamName = try values == nil ? o.streamName ?? FileHasher.hash(reader: reader) : ""
        FileHasher.afterHashing(o.original)
        let deq = UniformDequantizer(binCount: k, range: range, key: NoiseKey(seed: o.seed, name: streamName))
        let chunk = o.chunkFrames * ch
        var bins = [UInt32](repeating: 0, count: chunk)
        var y = [Double](repeating: 0, count: chunk)
        var yf = [Float](repeating: 0, count: precision == .float32 && values == nil ? chunk : 0)
        var cc = [UInt32](repeating: 0, count: o.chunkFrames)
        var cy = [Double](repeating: 0, count: o.chunkFrames)
        var index = 0
        while true {
            let n: Int
            do { n = try bins.withUnsafeMutableBufferPointer { try reader.read(into: $0) } * ch }
            catch { throw AudioDQError.soundFile(error as! SoundFileError) }
            if n == 0 { break }
            if let values {
                let got = try y.withUnsafeMutableBufferPointer { try values.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
                guard got == n else { throw AudioDQError.malformed(path: o.dequantized!, reason: "ended early") }
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
        try FileHasher.checkUnchanged(reader, since: state, path: o.original)
        var reports: [ChannelReport] = []
        for a in analyzers {
            do { reports.append(try a.finish()) } catch {
                throw AudioDQError.malformed(path: o.dequantized ?? o.original, reason: "\(error)")
            }
        }
        return DiagnosticsReport(source: o.original, dequantized: o.dequantized, sampleRate: Double(info.sampleRate),
                                 binCount: k, range: range, config: config, channels: reports, extra: extra)
    }

    /// Writes a report file atomically (temporary file, then rename).
    public static func writeAtomically(_ data: Data, to path: String, inputs: [String]) throws {
        try AtomicOutput.write([UInt8](data), to: path, force: true, inputs: inputs)
    }
}
