import Foundation

/// Loads discrete audio for training and evaluation: files, folders (recursive) and manifests
/// (one path per line), read as exact bins. Every channel of a file is one sequence.
/// Files that cannot be read as discrete audio are skipped with a warning (training and evaluation
/// go on with the rest); a file whose K differs from the first file's is an error, because one
/// model cannot serve two bin counts.
public enum CorpusLoader {
    public static func load(_ paths: [String], raw: RawFormat? = nil, warn: (String) -> Void) throws -> (Corpus, skipped: Int) {
        var files: [String] = []
        for p in paths {
            if BatchPlan.isBatchInput(p) {
                files += try BatchPlan(input: p, outputDir: "/", format: .f32, includeRaw: raw != nil).items.map(\.source)
            } else {
                files.append(p)
            }
        }
        guard !files.isEmpty else { throw AudioDQError.invalidArgument("no audio files in \(paths.joined(separator: ", "))") }
        var corpus: Corpus?
        var skipped = 0
        for f in files {
            let signal: DiscreteSignal
            do { signal = try SoundFileReader(path: f, raw: raw).readAll() } catch {
                warn("audiodq: warning: skipping \(error)")
                skipped += 1
                continue
            }
            if corpus == nil { corpus = Corpus(encoding: signal.encoding, sampleRate: signal.sampleRate, sequences: []) }
            guard signal.binCount == corpus!.encoding.binCount else {
                throw AudioDQError.mismatch(path: f, detail: "\(signal.encoding.displayName) (K = \(signal.binCount)) differs from the first file's \(corpus!.encoding.displayName) (K = \(corpus!.encoding.binCount))")
            }
            if signal.channels == 1 {
                corpus!.sequences.append(.init(name: f, bins: signal.bins))
            } else {
                for c in 0..<signal.channels { corpus!.sequences.append(.init(name: "\(f)#\(c)", bins: signal.channel(c))) }
            }
        }
        guard let corpus else { throw AudioDQError.invalidArgument("none of the \(files.count) files could be read as discrete audio") }
        return (corpus, skipped)
    }
}
