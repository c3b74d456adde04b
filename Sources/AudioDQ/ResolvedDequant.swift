import DiscreteAudio
import Dequantization

/// What a dequantization does, every default decided (`DequantSettings.resolve`): together with
/// the source's bytes these fields fix every output value byte for byte. The sidecar records it
/// (`Sidecar.resolved` reads it back), and an output is up to date exactly when the value its
/// sidecar records equals the one resolved for this run (`BatchConverter.upToDate`). `==`
/// compares every field except `quantizerReason` (why the cells were chosen changes no byte).
public struct ResolvedDequant: Sendable, Equatable {
    /// The noise stream's name.
    public enum Stream: Sendable, Equatable {
        /// The source's SHA-256 in lowercase hex (the default).
        case sourceSHA256
        /// A name given with `--key`.
        case given(String)
    }

    /// SHA-256 of the source's bytes, hashed from the descriptor they are read from. nil only
    /// inside a single conversion with a given stream name, which hashes while converting and
    /// fills it in before the sidecar is written.
    public var sourceSHA256: String?
    /// `RawFormat.spec` of a headerless source (encoding, rate, channels, byte order).
    public var raw: String?
    public var format: ValueFormat
    public var dtype: ValueType
    public var range: DequantRange
    public var seed: UInt64
    public var stream: Stream
    public var method: DequantMethod
    /// Variational: SHA-256 of the model file (its identity: a model retrained in place is
    /// another model; the same bytes under another path are the same one).
    public var modelSHA256: String?
    /// How u is formed from the generator's bits (`Sidecar.uVariant`).
    public var uVariant: String
    /// The counter-based generator of the noise bits.
    public var generator: String
    /// The cells each code is dequantized into (`Quantizer`; `container` in sidecars written
    /// before quantizers existed).
    public var quantizer: Quantizer
    /// Why: "asked for", or the detector's reason (`QuantizerDetection.reason`), or the domain's.
    /// Recorded, not compared.
    public var quantizerReason: String?

    public init(sourceSHA256: String?, raw: String?, format: ValueFormat, dtype: ValueType, range: DequantRange,
                seed: UInt64, stream: Stream, method: DequantMethod, modelSHA256: String?,
                uVariant: String? = nil, generator: String = ResolvedDequant.generatorName,
                quantizer: Quantizer, quantizerReason: String? = nil) {
        self.sourceSHA256 = sourceSHA256
        self.raw = raw
        self.format = format
        self.dtype = dtype
        self.range = range
        self.seed = seed
        self.stream = stream
        self.method = method
        self.modelSHA256 = modelSHA256
        self.uVariant = uVariant ?? Sidecar.uVariant(method: method, dtype: dtype, quantizer: quantizer)
        self.generator = generator
        self.quantizer = quantizer
        self.quantizerReason = quantizerReason
    }

    public static func == (a: ResolvedDequant, b: ResolvedDequant) -> Bool {
        a.sourceSHA256 == b.sourceSHA256 && a.raw == b.raw && a.format == b.format && a.dtype == b.dtype
            && a.range == b.range && a.seed == b.seed && a.stream == b.stream && a.method == b.method
            && a.modelSHA256 == b.modelSHA256 && a.uVariant == b.uVariant && a.generator == b.generator
            && a.quantizer == b.quantizer
    }

    /// `dequantization.generator` of every output this version writes.
    public static let generatorName = "wyrand-counter"

    /// The stream name: the given one, or the source's SHA-256 (nil until it is known).
    public var streamName: String? {
        switch stream {
        case .given(let name): return name
        case .sourceSHA256: return sourceSHA256
        }
    }
}
