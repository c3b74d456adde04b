import Foundation

/// Loads discrete audio for training and evaluation: files, folders (recursive) and manifests
/// (one path per line), read as exact bins. Every channel of a file is one sequence.
/// Files that cannot be read as discrete audio are skipped with a warning to the diagnostics sink
/// (severity `.warning(action: "skipping")`, in file order; training and evaluation go on with
/// the rest).
///
/// **Cells.** Each file gets its own quantizer from `choice` and `domain` (`QuantizerResolver`;
/// `auto`: detected per file), stored with each of its sequences. Every file must give the flow
/// the first readable file's input scale (`FlowInput`: the domain, and the law in the code
/// domain) and have its sample rate, because one model serves one scale at one rate: a different
/// scale (μ-law vs A-law codes, or code vs linear domain) or rate is an error naming the file,
/// what it has and what the first file has. The linear domain is one scale whatever S (v is
/// amplitude over full scale): linear PCM of any bit depth, on any lattice, and G.711 in the
/// linear domain mix. Files of one scale with different quantizers (8-bit PCM, an 8-bit recording
/// in a 16-bit container and full 16-bit files; μ-law bytes in the linear domain next to 16-bit PCM
/// holding expanded μ-law) are trained together, each sample in its own file's cells, and never
/// silently: one note per quantizer used other than one-code cells (`Diagnostic.Severity.note`:
/// the first file, the count, the reason; container cells are today's behaviour and not
/// announced), and when there is more than one quantizer, a warning naming the files of each.
public enum CorpusLoader {
    public static func load(_ paths: [String], raw: RawFormat? = nil, quantizer choice: QuantizerChoice = .auto,
                            domain: ValueDomain = .code, diagnostics: DiagnosticSink) throws -> (Corpus, skipped: Int) {
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
        var groups: [(quantizer: Quantizer, files: [String], reason: String)] = []
        for f in files {
            let signal: DiscreteSignal
            let declared: Int?
            do {
                let reader = try CodeReader(path: f, raw: raw)
                declared = reader.declaredValidBits
                signal = try reader.readAll()
            } catch {
                diagnostics(Diagnostic(error, severity: .warning(action: "skipping")))
                skipped += 1
                continue
            }
            let (q, reason) = try QuantizerResolver.resolve(choice, domain: domain, signal: signal,
                                                            declaredValidBits: declared, path: f)
            let input = FlowInput(q)
            if corpus == nil {
                corpus = Corpus(encoding: signal.encoding, sampleRate: signal.sampleRate, sequences: [], input: input)
                first = f
            }
            let c = corpus!
            guard input == c.input else {
                throw AudioDQError.mismatch(path: f, detail: "\(signal.encoding.displayName) (K = \(signal.binCount), \(q), \(input)) differs from the first file's \(c.encoding.displayName) (K = \(c.encoding.binCount), \(c.input), \(first)); one model serves one input scale (one domain; in the code domain, one law)")
            }
            // one group per set of cells (`Quantizer.hasSameCells`)
            if let g = groups.firstIndex(where: { $0.quantizer.hasSameCells(as: q) }) { groups[g].files.append(f) } else { groups.append((q, [f], reason)) }
            guard signal.sampleRate == c.sampleRate else {
                throw AudioDQError.mismatch(path: f, detail: "sample rate \(signal.sampleRate) Hz differs from the first file's \(c.sampleRate) Hz (\(first)); one model serves one rate")
            }
            if signal.channels == 1 {
                corpus!.sequences.append(.init(name: f, bins: signal.bins, quantizer: q))
            } else {
                for c in 0..<signal.channels { corpus!.sequences.append(.init(name: "\(f)#\(c)", bins: signal.channel(c), quantizer: q)) }
            }
        }
        guard let corpus else { throw AudioDQError.noReadableAudio(files: files.count) }
        announce(groups, diagnostics)
        return (corpus, skipped)
    }

    /// Files named in a warning per quantizer, at most.
    static let namedFiles = 8

    /// One note per quantizer other than container cells; a warning naming the files of each when there are several.
    static func announce(_ groups: [(quantizer: Quantizer, files: [String], reason: String)], _ diagnostics: DiagnosticSink) {
        for g in groups where g.quantizer.kind != .container {
            let others = g.files.count > 1 ? " and \(g.files.count - 1) more file\(g.files.count > 2 ? "s" : "")" : ""
            diagnostics(Diagnostic(AudioDQError.quantizerInUse(
                path: g.files[0], detail: "quantizer \(QuantizerChoice(g.quantizer)) = \(g.quantizer)\(others) (\(g.reason))"), severity: .note))
        }
        guard groups.count > 1 else { return }
        let parts = groups.map { g in
            let shown = g.files.prefix(namedFiles).joined(separator: ", ")
            let rest = g.files.count > namedFiles ? " and \(g.files.count - namedFiles) more" : ""
            return "\(QuantizerChoice(g.quantizer)) (\(g.quantizer)): \(shown)\(rest)"
        }
        diagnostics(Diagnostic(AudioDQError.mixedQuantizers(detail: parts.joined(separator: "; ") + "; each sample is dequantized in its own file's cells"),
                               severity: .warning(action: "mixing")))
    }
}
