import ArgumentParser
import AudioDQ


struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Requantize dequantized samples back to the exact source codes.",
        discussion: """
        Reads .f32/.f64/.npy/.wav and its sidecar (INPUT.json), decodes every value with the \
        sidecar's rule and writes the source encoding in the container OUTPUT's extension names \
        (.wav, .aiff, .au, .flac, .caf, .w64, .rf64, .sph, .sf, .voc, .8svx, .paf, .mat, .htk, .avr, \
        .pvf, .wve, .raw); 8-bit PCM in the container's own 8-bit flavour (signed into WAV as \
        unsigned, unsigned into AU as signed: the same levels). A non-finite or out-of-range value \
        is an error naming its sample index; nothing is written then.
        """)

    @Argument(help: "Dequantized samples (.f32, .f64, .npy or .wav).")
    var input: String

    @Argument(help: "Discrete audio to write (.wav, .aiff, .au, .flac, .sph, .voc, …, .raw).")
    var output: String

    @Option(help: "Sidecar path (default: INPUT.json).")
    var sidecar: String?

    @Option(help: "Encoding when there is no sidecar (ulaw, alaw, u8, s8, s16, s24).")
    var encoding: String?

    @Option(help: "Range when there is no sidecar.")
    var range: DequantRange?

    @Option(help: "Sample rate when neither sidecar nor file gives it.")
    var rate: Int?

    @Option(help: "Channels when neither sidecar nor file gives it.")
    var channels: Int?

    @Flag(help: "Replace an existing output.")
    var force = false

    func validate() throws {
        if let encoding, SampleEncoding(name: encoding) == nil {
            throw ValidationError("unknown encoding '\(encoding)' (ulaw, alaw, u8, s8, s16, s24)")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let channels, channels <= 0 { throw ValidationError("--channels must be positive") }
    }

    func run() throws {
        var options = RestoreOptions(input: input, output: output)
        options.sidecarPath = sidecar
        options.encoding = encoding.flatMap { SampleEncoding(name: $0) }
        options.range = range
        options.sampleRate = rate
        options.channels = channels
        options.force = force
        _ = try Restorer.run(options)
    }
}
