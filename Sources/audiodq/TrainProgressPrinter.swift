import AudioDQ
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `train`'s progress on stderr: on a terminal one redrawn line per step; otherwise a line at
/// most every 10 s (and at the last step) plus one line per checkpoint. `quiet` prints nothing.
/// ETA = remaining steps × samples per step / samples per second.
final class TrainProgressPrinter {
    private let quiet: Bool
    private let terminal: Bool
    private let samplesPerStep: Double
    private var lastLine = 0.0
    private var finished = false

    init(quiet: Bool, samplesPerStep: Int) {
        self.quiet = quiet
        self.samplesPerStep = Double(samplesPerStep)
        terminal = isatty(2) == 1
    }

    func handle(_ event: TrainEvent) {
        guard !quiet else { return }
        switch event {
        case .loaded(let sequences, let usable, let short, let bad, let samples):
            printError("training on \(usable) of \(sequences) sequences (\(samples) samples); \(short) shorter than one segment, \(bad) unreadable files skipped")
        case .progress(let p):
            let eta = p.samplesPerSecond > 0 ? Double(p.steps - p.step) * samplesPerStep / p.samplesPerSecond : 0
            let line = "step \(p.step)/\(p.steps)  loss \(String(format: "%.4f", p.loss)) bits/sample  \(String(format: "%.2f", p.samplesPerSecond / 1e6)) M samples/s  ETA \(ProgressPrinter.clock(eta))"
            if terminal {
                printError("\r\u{1B}[K" + line, newline: false)
            } else if p.elapsed - lastLine >= 10 || p.step == p.steps {
                lastLine = p.elapsed
                printError(line)
            }
        case .checkpoint(let step, let path):
            if !terminal { printError("checkpoint: step \(step) -> \(path)") }
        }
    }

    /// Ends the redrawn line once the run is over, also when it failed (later calls do nothing).
    func finish() {
        if terminal && !quiet && !finished { printError("") }
        finished = true
    }
}
