import ArgumentParser
import AudioDQ
#if canImport(Glibc)
import Glibc
#endif

/// Writes one line to stderr, unbuffered.
func printError(_ line: String, newline: Bool = true) {
    var s = line
    if newline && !s.hasSuffix("\n") { s += "\n" }
    let bytes = Array(s.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The CLI's one diagnostics sink: every warning a library verb sends, every file `info` cannot
/// read and the error that ends a command (`AudioDQCommand.main`) is one line on stderr,
/// in the order sent (`DiagnosticText.line`).
let stderrDiagnostics: DiagnosticSink = { printError(DiagnosticText.line($0)) }

/// How a command ends unsuccessfully after it has said why itself (`AudioDQCommand.main` turns
/// it into the exit code).
enum CommandFailure: Error {
    /// Failures already reported (batch files failed, `report --check` found a failure, `info`
    /// could not read a file): exit 1.
    case reported
    /// Training stopped by Ctrl-C after saving a checkpoint: exit 130 (128 + SIGINT).
    case interrupted
}

func parseRaw(_ spec: String?) throws -> RawFormat? {
    guard let spec else { return nil }
    do { return try RawFormat(spec: spec) } catch { throw ValidationError(DiagnosticText.message(Diagnostic(error))) }
}

func defaultThreads() -> Int {
    let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    return max(1, min(n, 8))
}
