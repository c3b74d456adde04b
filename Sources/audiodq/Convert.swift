import ArgumentParser
import AudioDQ


struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dequantize a discrete audio file into continuous samples.",
        discussion: """
        Output format by extension: .f32/.f64 (raw little-endian, interleaved), .npy (NumPy 1.0, shape \
        (frames,) or (frames, channels)), .wav (IEEE float WAV, symmetric range by default).
        Writes OUT.json beside the output: source hash, encoding, K, range, seed and decode rule.
        unit range: y = (x + u)/K, decode x = floor(y*K); symmetric: y = 2(x + u)/K - 1, decode \
        x = floor(y*K/2) + K/2.
        """)

    @Argument(help: "Discrete audio: WAV, AIFF, AU, FLAC, or headerless RAW with --raw.")
    var input: String

    @Argument(help: "Output file (.f32, .f64, .npy or .wav).")
    var output: String

    @Option(help: "Headerless input as encoding:rate:channels[:le|be], e.g. ulaw:8000:1, s16:16000:2.")
    var raw: String?

    @Option(help: "Output format when the extension does not say: f32, f64, npy or wav (e.g. for /dev/stdout).")
    var format: ValueFormatArgument?

    @Option(help: "Output range: unit [0,1) or symmetric [-1,1). Default: unit (symmetric for .wav).")
    var range: DequantRangeArgument?

    @Option(help: "Element type for .npy/.wav (default float32; float64 for 24-bit input).")
    var dtype: ValueTypeArgument?

    @Option(help: "Noise seed.")
    var seed: UInt64 = 0

    @Option(name: .customLong("key"), help: "Noise stream name (FNV-1a 64 hashed into the noise key).")
    var streamName: String = ""

    @Option(help: "Sidecar path (default: OUTPUT.json).")
    var sidecar: String?

    @Option(help: "Dequantization threads (output does not depend on it).")
    var threads: Int = defaultThreads()

    @Option(help: "Frames per streaming chunk (output does not depend on it).")
    var chunkFrames: Int = 65536

    @Flag(help: "Replace an existing output.")
    var force = false

    @Flag(name: .shortAndLong, help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard chunkFrames >= 1 else { throw ValidationError("--chunk-frames must be at least 1") }
        _ = try parseRaw(raw)
    }

    func run() throws {
        var o = ConvertOptions(input: input, output: output)
        o.raw = try parseRaw(raw)
        o.format = format?.value
        o.range = range?.value
        o.dtype = dtype?.value
        o.seed = seed
        o.streamName = streamName
        o.sidecarPath = sidecar
        o.threads = threads
        o.chunkFrames = chunkFrames
        o.force = force
        let s = try reportingErrors { try Converter.run(o) }
        if !quiet {
            printError("\(input): \(s.source.encoding.displayName), K=\(s.source.binCount), \(s.source.channels) ch, \(s.source.frames) frames -> \(output) (\(s.output.dtype.rawValue), \(s.dequantization.range.rawValue), \(s.dequantization.method), seed \(s.dequantization.seed))")
        }
    }
}
