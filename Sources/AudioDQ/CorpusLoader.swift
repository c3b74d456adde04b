import Foundation

/// Loads discrete audio for training and evaluation: files, folders (recursive) and manifests
/// (one path per line), read as exact bins. Every channel of a file is one sequence.
/// Files that cannot be read as discrete audio are skipped with a warning to the diagnostics sink
/// (severity `.warning(action: "skipping")`, in file order; training and evaluation go on with
/// the rest). Every file must have the first readable file's quantizer and sample rate,
/// because one model serves one encoding at one rate: a different K, a different quantizer of the
/// same K (μ-law, A-law, linear 8-bit) or a different rate is an error naming the file, what it
/// has and what the first file has. Signed and unsigned 8-bit PCM are one quantizer (the same 256
/// levels, bin = v + 128 and v), so they may be mixed.
public enum CorpusLoader {
    public static func load(_ paths: [String], raw: RawFormat? = nil, diagnostics: DiagnosticSink) throws -> (Corpus, skipped: Int) {
        var files: [String] = []
        for p in paths {
            if BatchPlan.isBatchInput(p) {
                files += try BatchPlan(input: p, outputDir: "/", format: .f32, includeRaw: raw != nil).items.map(\.source)
            } else {
                files.append(p)
            }
        }
        guard !files.isEmpty else { throw AudioDQError.noAudioFiles(inputs: paths) }
        var corpus: Corpus?
        var first = ""
        var skipped = 0
        for f in files {
            let signal: DiscreteSignal
            do { signal = try CodeReader(path: f, raw: raw).readAll() } catch {
                diagnostics(Diagnostic(error, severity: .warning(action: "skipping")))
                skipped += 1
                continue
            }
            if corpus == nil {
                corpus = Corpus(encoding: signal.encoding, sampleRate: signal.sampleRate, sequences: [])
                first = f
            }
            let c = corpus!
            guard quantizer(signal.encoding) == quantizer(c.encoding) else {
                throw AudioDQError.mismatch(path: f, detail: "\(signal.encoding.displayName) (K = \(signal.binCount)) differs from the first file's \(c.encoding.displayName) (K = \(c.encoding.binCount), \(first)); one model serves one encoding")
            }
            guard signal.sampleRate == c.sampleRate else {
                throw AudioDQError.mismatch(path: f, detail: "sample rate \(signal.sampleRate) Hz differs from the first file's \(c.sampleRate) Hz (\(first)); one model serves one rate")
            }
            if signal.channels == 1 {
                corpus!.sequences.append(.init(name: f, bins: signal.bins))
            } else {
                for c in 0..<signal.channels { corpus!.sequences.append(.init(name: "\(f)#\(c)", bins: signal.channel(c))) }
            }
        }
        guard let corpus else { throw AudioDQError.noReadableAudio(files: files.count) }
        return (corpus, skipped)
    }

    /// The quantizer an encoding stands for: encodings with equal values have the same levels
    /// (signed and unsigned 8-bit PCM differ only in how the code is stored).
    static func quantizer(_ e: SampleEncoding) -> SampleEncoding { e == .pcmS8 ? .pcmU8 : e }
}
