import ArgumentParser
import AudioDQ


struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dequantize a discrete audio file, or a whole corpus, into continuous samples.",
        discussion: """
        Batch mode: when INPUT is a folder or a manifest (.txt/.lst/.list: one path per line, relative \
        to the manifest's folder or absolute), OUTPUT is a folder that mirrors the input tree. Each \
        file's noise is keyed by (seed, the file's SHA-256), as for a single file, so outputs are \
        identical whatever --jobs, --shard or order, and to `convert FILE OUT`. --shard I/N \
        (0 <= I < N) takes the files whose FNV-1a 64 hash of the relative path is I modulo N. \
        OUTPUT/manifest-<shard>.jsonl lists every file under INPUT (hidden ones aside): converted, \
        failed, or skipped with the reason (not audio audiodq reads exactly; .raw/.pcm without \
        --raw); files of other extensions are opened by content. Inputs that differ only by \
        extension (a.wav, a.au) keep it in their output names (a.wav.f32, a.au.f32). With the \
        default format, 24-bit files go to .f64. A re-run skips outputs whose sidecar matches.

        Output format by extension: .f32/.f64 (raw little-endian, interleaved), .npy (NumPy 1.0, shape \
        (frames,) or (frames, channels)), .wav (IEEE float WAV, symmetric range by default).
        Writes OUT.json beside the output: source hash, encoding, K, range, seed, quantizer and the \
        exact decode rule. In one-code cells (--quantizer container, G.711 bytes in --domain code, \
        PCM where auto detects nothing coarser): unit range y = (x + u)/K, decode x = floor(y*K); \
        symmetric y = 2(x + u)/K - 1, decode x = floor(y*K/2) + K/2. In other cells (a detected \
        lattice, G.711 cells) y is a point of the code's cell and floor(y*K) is in general not the \
        code: the sidecar's decode rule gives it, and restore uses it.
        """)

    @Argument(help: "Discrete audio in any container libsndfile reads (WAV, AIFF, AU, FLAC, NIST SPHERE, VOC, …), or headerless RAW with --raw.")
    var input: String

    @Argument(help: "Output file (.f32, .f64, .npy or .wav).")
    var output: String

    @Option(help: "Output format when the extension does not say: f32, f64, npy or wav (e.g. for /dev/stdout).")
    var format: ValueFormat?

    @OptionGroup var dequant: DequantOptions

    @Option(help: "Variational: also write log q(u|x) per sample as raw float32 (nats, interleaved).")
    var logQ: String?

    @Option(help: "Sidecar path (default: OUTPUT.json).")
    var sidecar: String?

    @Option(help: "Dequantization threads (output does not depend on it).")
    var threads: Int = defaultThreads()

    @Option(help: "Frames per streaming chunk (output does not depend on it).")
    var chunkFrames: Int = 65536

    @Option(help: "Batch mode: files converted at once.")
    var jobs: Int = defaultThreads()

    @Option(help: "Batch mode: convert only shard I of N (0 <= I < N), e.g. --shard 3/16.")
    var shard: String?

    @Flag(help: "Also record the output's SHA-256 in the sidecar (batch mode always does: the manifest lists it).")
    var hashOutput = false

    @Flag(help: "Replace an existing output (batch mode: redo outputs whose sidecar matches).")
    var force = false

    @Flag(name: .shortAndLong, help: "Print nothing on success, not even the quantizer auto chose (the sidecar records it).")
    var quiet = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard chunkFrames >= 1 else { throw ValidationError("--chunk-frames must be at least 1") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        let variational = dequant.method == .variational
        if variational && dequant.model == nil { throw ValidationError("--method variational needs --model M") }
        if !variational && (dequant.model != nil || logQ != nil) { throw ValidationError("--model and --log-q go with --method variational") }
        if let shard, Shard(shard) == nil { throw ValidationError("--shard must be I/N with 0 <= I < N, e.g. 0/4") }
    }

    func run() throws {
        let settings = try dequant.settings(format: format)
        if BatchPlan.isBatchInput(input) {
            if FileSystem.isDirectory(input) && ValueFormat(path: output) != nil {
                throw AudioDQError.inputIsFolder(path: input)
            }
            if dequant.streamName != nil {
                throw ValidationError("--key names one file's noise stream; batch mode keys each file by its own SHA-256")
            }
            return try runBatch(settings)
        }
        var options = ConvertOptions(input: input, output: output, settings: settings)
        options.sidecarPath = sidecar
        options.logQPath = logQ
        options.threads = threads
        options.chunkFrames = chunkFrames
        options.force = force
        options.hashOutput = hashOutput
        let s = try Converter.run(options)
        if !quiet {
            // the quantizer is named when its cells are not the container's own codes
            let q = s.dequantization.quantizer.flatMap { $0.kind == Quantizer.Kind.container.name ? nil : ", quantizer \($0.name): \($0.reason ?? "asked for")" } ?? ""
            printError("\(input): \(s.source.encoding.displayName), K=\(s.source.binCount), \(s.source.channels) ch, \(s.source.frames) frames -> \(output) (\(s.output.dtype.rawValue), \(s.dequantization.range.rawValue), \(s.dequantization.method), seed \(s.dequantization.seed)\(q))")
        }
    }

    func runBatch(_ settings: DequantSettings) throws {
        var options = BatchOptions(input: input, outputDir: output, settings: settings)
        options.jobs = jobs
        options.shard = shard.flatMap(Shard.init)
        options.force = force
        let bar = ProgressPrinter(quiet: quiet)
        let s = try BatchConverter.run(options, diagnostics: bar.report) { bar.update($0) }
        bar.finish()
        if !quiet {
            // one note per quantizer other than container cells (its file count, a first file)
            s.quantizerNotes.forEach(stderrDiagnostics)
            var notes: [String] = []
            if s.widened > 0 { notes.append("\(s.widened) 24-bit file\(s.widened == 1 ? "" : "s") written as f64") }
            if s.notConverted > 0 { notes.append("\(s.notConverted) file\(s.notConverted == 1 ? "" : "s") not converted, reasons in the manifest") }
            let note = notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")"
            printError("\(s.ok) ok, \(s.skipped) skipped, \(s.failed) failed\(note); \(s.samples) samples in \(String(format: "%.1f", s.seconds)) s; manifest \(s.manifest)")
        }
        if s.failed > 0 { throw CommandFailure.reported }
    }
}
