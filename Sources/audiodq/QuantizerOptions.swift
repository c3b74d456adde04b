import ArgumentParser
import AudioDQ

/// `--quantizer` and `--domain`, declared once for every command that dequantizes into cells.
struct QuantizerOptions: ParsableArguments {
    @Option(help: """
        Cells of each file: auto (detected per file: declared valid bits, a 2^K lattice, G.711 \
        levels in PCM; announced on stderr), container (one code wide), lattice:K (step 2^K), mulaw, alaw.
        """)
    var quantizer: QuantizerChoice = .auto

    @Option(help: "G.711 files: model the codes (code) or the amplitudes in their decision intervals (linear). Linear PCM is linear either way.")
    var domain: ValueDomain = .code
}
