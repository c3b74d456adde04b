import ArgumentParser
import AudioDQ

/// The options of `convert` and `report` that say how to dequantize, declared once: they become
/// one `DequantSettings`, whose defaults the library decides (`DequantSettings.resolve`).
struct DequantOptions: ParsableArguments {
    @Option(help: "Headerless input as encoding:rate:channels[:le|be], e.g. ulaw:8000:1, s16:16000:2.")
    var raw: String?

    @Option(help: "Range: unit [0,1) or symmetric [-1,1). Default: unit (symmetric for .wav output). report: the range to dequantize with, or of --dequantized values without a sidecar (default: the sidecar's).")
    var range: DequantRange?

    @Option(help: "Element type of the values (default float32; float64 for 24-bit input). convert: for .npy/.wav (.f32/.f64 say it); report: when dequantizing here, uniform or variational, not with --dequantized (its values have their type).")
    var dtype: ValueType?

    @Option(help: "Noise seed.")
    var seed: UInt64 = 0

    @Option(help: "Noise: uniform (the default), or variational (u drawn from a trained q(u|x), needs --model, placed in each code's cell; the file's cells from --quantizer/--domain must be ones the model was trained in, else an error names both). report: the noise judged (variational: learned, only containment, spurs and edge pile-up apply); default: the sidecar's method for --dequantized, else uniform; given, it wins over the sidecar.")
    var method: DequantMethod?

    @Option(help: "Trained variational model (.dqm) for --method variational.")
    var model: String?

    @Option(name: .customLong("key"), help: "Noise stream name (FNV-1a 64 hashed into the noise key). Default: the input's SHA-256 in hex (the sidecar's source.sha256), so different files get independent noise. convert: not in batch mode (each file is keyed by its own SHA-256).")
    var streamName: String?

    /// `--quantizer`, `--domain`: the declaration `train` and `eval` use too.
    @OptionGroup var cells: QuantizerOptions

    func validate() throws {
        _ = try parseRaw(raw)
    }

    /// What was asked for, as the library's one settings value (`format` from `convert --format`).
    func settings(format: ValueFormat? = nil) throws -> DequantSettings {
        var settings = DequantSettings()
        settings.format = format
        settings.range = range
        settings.dtype = dtype
        settings.seed = seed
        settings.streamName = streamName
        settings.method = method
        settings.modelPath = model
        settings.raw = try parseRaw(raw)
        settings.quantizer = cells.quantizer
        settings.domain = cells.domain
        return settings
    }
}
