import DiscreteAudio
import SoundFileIO
import Dequantization

/// What the user asked for when dequantizing: shared by `convert` (one file or a corpus) and
/// `report` (when it dequantizes here). Every field left nil is a default that only
/// `resolve(for:target:model:)` decides, from the source and the output; nothing else in audiodq
/// applies a default of its own.
public struct DequantSettings: Sendable, Equatable {
    /// Output format; nil: the output's extension (one file), f32 or f64 by encoding (a corpus).
    public var format: ValueFormat?
    /// nil: `unit`, except `symmetric` for `.wav` output.
    public var range: DequantRange?
    /// nil: the format's own type (.f32, .f64), else float32, float64 for input of more than
    /// 16 bits (24-bit PCM: float32 cannot carry its noise).
    public var dtype: ValueType?
    public var seed: UInt64 = 0
    /// Names the noise stream (hashed with FNV-1a 64 into the key). nil, the default: the
    /// source file's SHA-256 in lowercase hex (`source.sha256` of the sidecar), so different files
    /// get independent noise and the same content the same bytes under any name or folder. A
    /// corpus refuses a given name (it would give every file the same noise).
    public var streamName: String?
    /// nil: uniform (`report --dequantized`: the sidecar's method).
    public var method: DequantMethod?
    /// The trained model (`.dqm`) of `variational`.
    public var modelPath: String?
    /// Headerless input: how its bytes are read (in a corpus: the headerless files only).
    public var raw: RawFormat?
    /// The cells codes are dequantized into (`QuantizerChoice`; `auto`: the detected quantizer).
    public var quantizer: QuantizerChoice = .auto
    /// G.711-coded files: code or linear domain (`ValueDomain`).
    public var domain: ValueDomain = .code

    public init() {}

    /// True when resolving for a source of `encoding` needs its codes scanned by
    /// `QuantizerDetector` first (`auto` on linear PCM; G.711 bytes are their law's codes).
    public func needsDetection(_ encoding: SampleEncoding) -> Bool {
        encoding.isLinear && quantizer == .auto
    }

    /// The quantizer for `source` and why: `QuantizerResolver`'s rule (the one `train` and `eval`
    /// follow), with `auto` on linear PCM taken from `source.detection`, which the caller ran
    /// (`SourceScan`). A quantizer asked for is checked against the data while converting: the
    /// first code it cannot produce stops the conversion (`quantizerContradicted`).
    func resolveQuantizer(for source: DequantSource) throws -> (Quantizer, String) {
        let r = try QuantizerResolver.resolve(quantizer, domain: domain, encoding: source.info.encoding, path: source.path) {
            guard let d = source.detection else { throw AudioDQError.invalidArgument("\(source.path): quantizer not detected before resolving") }
            return d
        }
        return (r.quantizer, r.reason)
    }

    /// The format of a corpus's outputs as planned before any file is read: `format`, else f32
    /// (`resolve` then gives a file of more than 16 bits f64 when `format` is nil).
    public var corpusFormat: ValueFormat { format ?? .f32 }

    /// The method asked for, uniform when none is.
    public var resolvedMethod: DequantMethod { method ?? .uniform }

    /// Reads `modelPath` once (bytes, SHA-256, decoded checkpoint) for `variational`; nil for
    /// uniform. A corpus reads it once per run and resolves every file against it.
    func loadModel() throws -> ModelFile? {
        guard resolvedMethod == .variational else { return nil }
        guard let modelPath else { throw AudioDQError.modelRequired(method: .variational) }
        return try ModelFile(path: modelPath)
    }

    /// What the dequantized values go into, as far as the defaults depend on it.
    public enum Target: Sendable, Equatable {
        /// A file the user named (single conversion): its extension gives the format unless
        /// `format` is set.
        case file(String)
        /// An output audiodq names in a corpus, `stem` + "." + format: `format` if set, else f32,
        /// or f64 for input of more than 16 bits.
        case corpus(stem: String)
        /// Values kept by audiodq (report): raw floats of the resolved dtype.
        case values
    }

    /// The one place defaults are decided: turns what was asked into what will be done for the
    /// source `source` (opened, and hashed when `source.sha256` is set) into `target`.
    ///
    /// - format: `format`, else by `target` (see `Target`);
    /// - dtype: the format's type (.f32, .f64; a different `dtype` is an error), else `dtype`,
    ///   else float64 for input of more than 16 bits, float32 otherwise; float32 for such input is
    ///   an error (`float32CannotHold`);
    /// - range: `range`, else symmetric for `.wav`, unit otherwise;
    /// - stream: `streamName`, else the source's SHA-256;
    /// - method and model: `variational` needs `model` (read once, `loadModel()`) trained with
    ///   variational noise (for the source's K in one-code cells, `binCountMismatch` as before;
    ///   in the resolved cells, see quantizer); the model is identified by its SHA-256;
    /// - raw: the spec of `source.raw`, the format the source was read as (nil with a header);
    /// - uVariant: fixed by method, dtype and cells (`Sidecar.uVariant`);
    /// - quantizer: `resolveQuantizer(for:)`; with `variational` it must be cells the model's q
    ///   was trained in (`TrainedCells.fits`: same input scale and cells as a quantizer of its
    ///   training data), else `cellsNotTrained` names the file, the model and both.
    func resolve(for source: DequantSource, target: Target, model: ModelFile?) throws -> ResolvedDequant {
        let encoding = source.info.encoding
        let wide = encoding.bits > 16
        let defaultType: ValueType = wide ? .float64 : .float32
        let output: String?
        let format: ValueFormat
        switch target {
        case .file(let path):
            guard let f = self.format ?? ValueFormat(path: path) else {
                throw AudioDQError.unknownOutputFormat(path: path, allowed: ValueFormat.extensionsText)
            }
            format = f
            output = path
        case .corpus(let stem):
            format = self.format ?? (wide ? .f64 : corpusFormat)
            output = stem + "." + format.rawValue
        case .values:
            format = (dtype ?? defaultType) == .float64 ? .f64 : .f32
            output = nil
        }
        if let forced = format.forcedType, let dtype, dtype != forced {
            throw AudioDQError.dtypeContradictsFormat(path: output ?? source.path, dtype: dtype, format: format)
        }
        let type = format.forcedType ?? dtype ?? defaultType
        if type == .float32 && wide {
            throw AudioDQError.float32CannotHold(path: source.path, encoding: encoding.displayName, output: output)
        }
        let method = resolvedMethod
        let (quantizer, quantizerReason) = try resolveQuantizer(for: source)
        var modelSHA256: String?
        if method == .variational {
            guard let model else { throw AudioDQError.modelRequired(method: .variational) }
            guard model.method == .variational else {
                throw DequantizationError.wrongMethod(path: model.path, expected: .variational, found: model.method)
            }
            guard model.trainedCells.fits(quantizer) else {
                // one-code cells of another K: the message of old; any other misfit names both cells
                if quantizer.kind == .container && model.binCount != source.info.binCount {
                    throw DequantizationError.binCountMismatch(path: model.path, model: model.binCount, data: source.info.binCount)
                }
                throw DequantizationError.cellsNotTrained(path: source.path, model: model.path, trained: model.trainedCells,
                                                          quantizer: quantizer, reason: quantizerReason)
            }
            modelSHA256 = model.sha256
        }
        return ResolvedDequant(sourceSHA256: source.sha256, raw: source.raw?.spec, format: format, dtype: type,
                               range: range ?? (format == .wav ? .symmetric : .unit), seed: seed,
                               stream: streamName.map { .given($0) } ?? .sourceSHA256, method: method,
                               modelSHA256: modelSHA256, quantizer: quantizer, quantizerReason: quantizerReason)
    }
}

/// A source as resolution sees it: opened (`info`), read as `raw` (nil for a file with a
/// header), its SHA-256 when it has been hashed, and what `QuantizerDetector` found in its codes
/// when that was needed (`DequantSettings.needsDetection`; `SourceScan`).
struct DequantSource {
    var path: String
    var info: SoundFileInfo
    var raw: RawFormat?
    var sha256: String?
    var detection: QuantizerDetection? = nil
}
