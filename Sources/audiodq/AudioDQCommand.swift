import ArgumentParser
import AudioDQ

@main
struct AudioDQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audiodq",
        abstract: "Dequantize discrete audio for normalizing flows, and prove the noise is clean.",
        discussion: """
        Exit codes: 0 success, 1 failure (a clear one-line error on stderr), 64 usage error, \
        130 training interrupted (checkpoint saved).
        """,
        version: AudioDQVersion.string,
        subcommands: [Convert.self, Restore.self, Info.self, Report.self, Train.self, Eval.self, Sample.self])

    /// Parses, runs, and decides the exit code in this one place: argument-parser's own errors
    /// (help, version, `validate()`: 64) as it does; a library error as one line
    /// `audiodq: error: PATH: problem` (`DiagnosticText`) and `exitCode(for:)` of its kind.
    static func main() {
        var command: ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            try command.run()
        } catch let failure as CommandFailure {
            exit(withError: ExitCode(exitCode(for: failure)))
        } catch where error is ExitCode || error is ValidationError || error is CleanExit || isArgumentParserError(error) {
            exit(withError: error)
        } catch {
            let diagnostic = Diagnostic(error)
            stderrDiagnostics(diagnostic)
            exit(withError: ExitCode(exitCode(for: diagnostic.kind)))
        }
    }

    /// argument-parser's own errors that reach `run()` (`help SUBCOMMAND` and `--help` are run as
    /// its help command, which throws its internal `CommandError`): argument-parser prints them
    /// (the help text, exit 0), as it does for parse errors.
    static func isArgumentParserError(_ error: any Error) -> Bool {
        String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// 64 (EX_USAGE) for a usage error, 1 for every other kind.
    static func exitCode(for kind: ErrorKind) -> Int32 {
        switch kind {
        case .usage: return ExitCode.validationFailure.rawValue
        case .input, .format, .output, .model, .io: return ExitCode.failure.rawValue
        }
    }

    /// 1 for failures a command has reported itself, 130 for interrupted training.
    static func exitCode(for failure: CommandFailure) -> Int32 {
        switch failure {
        case .reported: return ExitCode.failure.rawValue
        case .interrupted: return 130
        }
    }
}
