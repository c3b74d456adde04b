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
        is an error naming its sample index; nothing is written then. Without a sidecar (a pipe's \
        output, a lost sidecar) the values are decoded in container cells, x = floor(y*K) (unit) \
        or floor(y*K/2) + K/2 (symmetric), unless --quantizer (and --domain for G.711) names the \
        cells convert used: values convert put in a lattice or G.711 cells decode to other codes \
        in container cells. With a sidecar, --quantizer/--domain must name its cells (exit 64 \
        otherwise).
        """)

    @Argument(help: "Dequantized samples (.f32, .f64, .npy or .wav).")
    var input: String

    @Argument(help: "Discrete audio to write (.wav, .aiff, .au, .flac, .sph, .voc, …, .raw).")
    var output: String

    @Option(help: "Sidecar path (default: INPUT.json).")
    var sidecar: String?

    @Option(help: """
        Encoding when there is no sidecar (ulaw, alaw, u8, s8, s16, s24). With a sidecar: the \
        encoding written, the sidecar's cells with its codes when it has the same cells at the same \
        scale (G.711 linear-domain output as s16: the law's levels, mu-law's -0 and +0 both 0), \
        refused otherwise.
        """)
    var encoding: String?

    @Option(help: "Range when there is no sidecar.")
    var range: DequantRange?

    @Option(help: """
        Cells the values were dequantized into, when there is no sidecar, spelled as convert's: \
        container (one code wide; the default without a sidecar), lattice:K (step 2^K), mulaw, \
        alaw; auto: the sidecar's (container without one). With a sidecar it must name its cells.
        """)
    var quantizer: QuantizerChoice?

    @Option(help: "G.711 encodings without a sidecar: the cells are the codes (code, the default) or the law's decision intervals (linear), as convert's --domain.")
    var domain: ValueDomain?

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
        options.quantizer = quantizer
        options.domain = domain
        options.force = force
        _ = try Restorer.run(options)
    }
}
