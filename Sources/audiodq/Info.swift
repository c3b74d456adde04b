import ArgumentParser
import AudioDQ
import Foundation

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe discrete audio files: encoding, K, rate, codes used, clipping, quantizer.")

    @Argument(help: "Audio files.")
    var files: [String]

    @Option(help: "Headerless input as encoding:rate:channels[:le|be].")
    var raw: String?

    @Flag(help: "Print a JSON array, one object per file.")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one file") }
        _ = try parseRaw(raw)
    }

    func run() throws {
        let rawFormat = try parseRaw(raw)
        var results: [AudioInfo] = []
        var failed = false
        for f in files {
            do {
                results.append(try AudioInfo.compute(path: f, raw: rawFormat))
            } catch {
                stderrDiagnostics(Diagnostic(error))
                failed = true
            }
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(results), as: UTF8.self))
        } else {
            for r in results { print(Info.text(r)) }
        }
        if failed { throw CommandFailure.reported }
    }

    static func text(_ r: AudioInfo) -> String {
        func pct(_ x: Double) -> String { String(format: "%.4f%%", x * 100) }
        let range = r.codeRange.map { "\($0[0])...\($0[1])" } ?? "none"
        return """
        \(r.path)
          container   \(r.container)
          encoding    \(r.encodingName) (K = \(r.binCount))
          rate        \(r.sampleRate) Hz, \(r.channels) channel\(r.channels == 1 ? "" : "s")
          frames      \(r.frames) (\(String(format: "%.3f", r.durationSeconds)) s)
          codes used  \(range), \(r.distinctCodes) distinct of \(r.binCount)
          clipping    \(pct(r.clippingShare)) at bin 0 or \(r.binCount - 1)
          zero        \(pct(r.zeroShare)) at the zero code\(r.encoding.zeroBins.count > 1 ? "s" : "")
          quantizer   \(r.quantizer.name): \(r.quantizer.reason)
        """
    }
}
