import Foundation
import DiscreteAudio
import SoundFileIO
import Dequantization

/// The JSON file written next to every continuous output (OUT + ".json"): everything needed to
/// interpret the values and to restore the exact codes.
///
/// Schema `audiodq.sidecar/1`. Decode rule: `dequantization.decode`, with K = `source.binCount`.
public struct Sidecar: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
        /// As given for a single conversion; in batch mode relative to the input root (the
        /// manifest's `relative`), so it does not depend on the working folder.
        public var path: String
        public var sha256: String
        public var container: String
        public var encoding: SampleEncoding
        public var binCount: Int
        public var sampleRate: Int
        public var channels: Int
        public var frames: Int
        /// Headerless input only: the `--raw` format it was read as, `encoding:rate:channels:le|be`
        /// (`RawFormat.spec`; the byte order is the one thing the other fields do not say).
        /// Absent for files with a header and in sidecars written before this field existed.
        public var raw: String? = nil
    }

    public struct Output: Codable, Sendable, Equatable {
        public var format: ValueFormat
        public var dtype: ValueType
        /// "interleaved": value i·channels + c is frame i of channel c; little-endian.
        public var layout: String
        public var shape: [Int]
        /// SHA-256 of the output file (absent for device/FIFO outputs).
        public var sha256: String?
    }

    public struct Dequantization: Codable, Sendable, Equatable {
        public var method: String
        public var range: DequantRange
        public var seed: UInt64
        /// Noise stream: FNV-1a 64 of `streamName`.
        public var stream: UInt64
        /// The stream name: `--seed seed --key streamName` reproduces the output.
        public var streamName: String
        /// How `streamName` was chosen: "source-sha256" (`streamFromSourceSHA256`) when it is the
        /// default, the source's SHA-256; absent when it was given (`--key`) or the sidecar was
        /// written before this field existed.
        public var streamSource: String? = nil
        public var generator: String
        /// How u is formed from the generator's bits, which with `generator`, the seed and the
        /// stream fixes every output byte: `uVariantFloat32` (uniform noise into float32),
        /// `uVariantFloat64` (uniform into float64), `uVariantLearned` (variational) or
        /// `uVariantLearned24` (variational float32 in non-container cells). Absent in
        /// sidecars written before this field existed (their u followed the dtype the same way).
        public var uVariant: String? = nil
        public var encode: String
        public var decode: String
        /// Variational only: the model file and the total log q(u|x) in nats over all samples.
        public var model: String?
        public var logQTotalNats: Double?
        /// Variational only: SHA-256 of the model file the output was made with (a model
        /// retrained in place has the same `model` path, not the same hash). Absent in sidecars
        /// written before this field existed.
        public var modelSHA256: String? = nil
        /// The cells the codes were dequantized into (`SidecarQuantizer`); absent in sidecars
        /// written before quantizers existed, which are `container`.
        public var quantizer: SidecarQuantizer? = nil
    }

    public var schema: String = "audiodq.sidecar/1"
    public var tool: String = "audiodq"
    public var version: String = AudioDQVersion.string
    public var source: Source
    public var output: Output
    public var dequantization: Dequantization

    /// `dequantization.uVariant` of uniform float32 output: two samples per 64-bit draw,
    /// u = (half >> 8)·2⁻²⁴ with half the low (even i) or high (odd i) 32 bits of bits(i >> 1),
    /// placed in float32 arithmetic.
    public static let uVariantFloat32 = "float32-24bit"
    /// `dequantization.uVariant` of uniform float64 output: u = (bits(i) >> 11)·2⁻⁵³, placed in
    /// Double.
    public static let uVariantFloat64 = "float64-53bit"
    /// `dequantization.uVariant` of variational output: u is q(u|x)'s float32 output for noise
    /// ε drawn from bits(i), placed in Double and rounded once to the dtype.
    public static let uVariantLearned = "learned-float32"
    /// `dequantization.uVariant` of variational float32 output in cells other than the
    /// container's: q(u|x)'s float32 u rounded to 24 bits, u24 = min(RN(u·2²⁴), 2²⁴ − 1), and placed into the
    /// cell as uniform float32 noise is (`CellDequantizer.place`).
    public static let uVariantLearned24 = "learned-float32-24bit"

    /// The `uVariant` of a conversion into `quantizer`'s cells.
    public static func uVariant(method: DequantMethod, dtype: ValueType, quantizer: Quantizer) -> String {
        guard method == .variational else { return dtype == .float32 ? uVariantFloat32 : uVariantFloat64 }
        return dtype == .float32 && quantizer.kind != .container ? uVariantLearned24 : uVariantLearned
    }

    /// `dequantization.streamSource` of the default stream name, the source's SHA-256.
    public static let streamFromSourceSHA256 = "source-sha256"

    /// The sidecar of a conversion: `resolved` (whose `sourceSHA256` is known by now) with the
    /// facts of the source (`info`, `frames` read) and of the output, and where the source and
    /// the model were found (`sourcePath`, `modelPath`: recorded, not part of `resolved`).
    init(resolved r: ResolvedDequant, info: SoundFileInfo, frames: Int, sourcePath: String, modelPath: String?,
         outputSHA256: String?, logQTotalNats: Double?) {
        let streamName = r.streamName!
        source = Source(path: sourcePath, sha256: r.sourceSHA256!, container: info.container.rawValue, encoding: info.encoding,
                        binCount: info.binCount, sampleRate: info.sampleRate, channels: info.channels, frames: frames,
                        raw: r.raw)
        output = Output(format: r.format, dtype: r.dtype, layout: "interleaved", shape: [frames, info.channels],
                        sha256: outputSHA256)
        dequantization = Dequantization(
            method: r.method.rawValue, range: r.range, seed: r.seed, stream: NoiseKey(seed: r.seed, name: streamName).stream,
            streamName: streamName, streamSource: r.stream == .sourceSHA256 ? Sidecar.streamFromSourceSHA256 : nil,
            generator: r.generator, uVariant: r.uVariant, encode: SidecarQuantizer.encodeRule(r.quantizer, range: r.range),
            decode: SidecarQuantizer.decodeRule(r.quantizer, range: r.range),
            model: r.method == .variational ? modelPath : nil, logQTotalNats: logQTotalNats, modelSHA256: r.modelSHA256,
            quantizer: SidecarQuantizer(r.quantizer, reason: r.quantizerReason))
    }

    /// What this sidecar says was done, as the `ResolvedDequant` it was written from; nil when
    /// its method is not one this version knows. The stream is the source's SHA-256 when
    /// `streamSource` says so or the name is that hash (sidecars written before `streamSource`
    /// existed; a name equal to the hash draws the same noise), a given name otherwise. A sidecar
    /// without `uVariant` (written before it existed) formed u as its method and dtype imply; one
    /// without `quantizer` used container cells. nil too for a quantizer this version cannot build.
    public var resolved: ResolvedDequant? {
        guard let method = DequantMethod(rawValue: dequantization.method) else { return nil }
        let d = dequantization
        guard let quantizer = d.quantizer.map({ $0.quantizer(encoding: source.encoding) }) ?? .container(source.encoding) else { return nil }
        let fromSource = d.streamName == source.sha256 && (d.streamSource == nil || d.streamSource == Sidecar.streamFromSourceSHA256)
        return ResolvedDequant(sourceSHA256: source.sha256, raw: source.raw, format: output.format, dtype: output.dtype,
                               range: d.range, seed: d.seed, stream: fromSource ? .sourceSHA256 : .given(d.streamName),
                               method: method, modelSHA256: d.modelSHA256, uVariant: d.uVariant, generator: d.generator,
                               quantizer: quantizer, quantizerReason: d.quantizer?.reason)
    }

    /// The sidecar path of an output: OUT + ".json".
    public static func path(for output: String) -> String { output + ".json" }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var d = try e.encode(self)
        d.append(0x0A)
        return d
    }

    public static func load(path: String) throws -> Sidecar {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AudioDQError.cannotRead(path: path, reason: "cannot read sidecar")
        }
        return try decode(data, path: path)
    }

    /// Parses sidecar JSON; `path` only names the file in errors. Also checks the figures are
    /// consistent (K = 2^bits of the encoding, positive rate and channels, non-negative frames,
    /// frames × channels × 8 bytes representable).
    public static func decode(_ data: Data, path: String) throws -> Sidecar {
        let sc: Sidecar
        do {
            sc = try JSONDecoder().decode(Sidecar.self, from: data)
        } catch {
            throw AudioDQError.badSidecar(path: path, reason: Sidecar.describe(error))
        }
        guard sc.source.binCount == sc.source.encoding.binCount else {
            throw AudioDQError.badSidecar(path: path, reason: "binCount \(sc.source.binCount) does not match encoding \(sc.source.encoding.rawValue)")
        }
        guard sc.source.sampleRate > 0, sc.source.channels > 0, sc.source.frames >= 0 else {
            throw AudioDQError.badSidecar(path: path, reason: "sample rate, channels and frames must be positive")
        }
        // frames × channels values of up to 8 bytes must be a size a file can have
        let (values, o1) = sc.source.frames.multipliedReportingOverflow(by: sc.source.channels)
        let (_, o2) = values.multipliedReportingOverflow(by: 8)
        guard !o1, !o2 else {
            throw AudioDQError.badSidecar(path: path, reason: "\(sc.source.frames) frames x \(sc.source.channels) channels is more values than a file can hold")
        }
        return sc
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let k, _): return "missing key '\(k.stringValue)'"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong type at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let c):
            let at = c.codingPath.map(\.stringValue).joined(separator: ".")
            return at.isEmpty ? "not valid JSON" : "invalid value at '\(at)'"
        default: return "\(error)"
        }
    }

    /// Writes the sidecar atomically next to `output`.
    func write(to output: AtomicOutput) throws {
        let data: Data
        do { data = try encoded() } catch { throw AudioDQError.cannotWrite(path: output.finalPath, reason: "\(error)") }
        let fd = try FileDescriptor(writing: output)
        try data.withUnsafeBytes { (p) throws in try fd.write(p) }
        try fd.close()
    }
}
