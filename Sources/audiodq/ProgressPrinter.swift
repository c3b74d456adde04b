import AudioDQ
import Foundation
import Synchronization

/// Batch progress on stderr: a redrawn bar on a terminal, a plain line every 5 s otherwise.
/// Each failed file's diagnostic (`report`) gets its own line, whatever the mode (also with
/// --quiet), through the CLI's one sink.
final class ProgressPrinter: Sendable {
    private let quiet: Bool
    private let terminal: Bool
    private let lastPrint = Mutex<Double>(0)

    init(quiet: Bool) {
        self.quiet = quiet
        terminal = isatty(2) == 1
    }

    /// A diagnostic line (first clearing the bar on a terminal).
    func report(_ diagnostic: Diagnostic) {
        if terminal && !quiet { printError("\r\u{1B}[K", newline: false) }
        stderrDiagnostics(diagnostic)
    }

    func update(_ p: BatchProgress) {
        guard !quiet else { return }
        let due = lastPrint.withLock { last -> Bool in
            let every = terminal ? 0.1 : 5.0
            if p.elapsed - last >= every || p.done == p.total { last = p.elapsed; return true }
            return false
        }
        guard due else { return }
        let rate = p.elapsed > 0 ? Double(p.samples) / p.elapsed : 0
        let eta = p.done > 0 ? p.elapsed / Double(p.done) * Double(p.total - p.done) : 0
        let stats = "\(p.done)/\(p.total) files, \(String(format: "%.1f", rate / 1e6)) M samples/s, ETA \(ProgressPrinter.clock(eta)) (\(p.ok) ok, \(p.skipped) skipped, \(p.failed) failed)"
        if terminal {
            let width = 24
            let filled = p.total > 0 ? width * p.done / p.total : width
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            printError("\r\u{1B}[K[\(bar)] \(stats)", newline: false)
        } else {
            printError("progress: \(stats)")
        }
    }

    func finish() {
        if terminal && !quiet { printError("") }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
