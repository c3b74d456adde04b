import ArgumentParser
import AudioDQ

@main
struct AudioDQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audiodq",
        abstract: "Dequantize discrete audio for normalizing flows, and prove the noise is clean.",
        discussion: """
        Exit codes: 0 success, 1 failure (a clear one-line error on stderr), 64 usage error.
        """,
        version: AudioDQVersion.string,
        subcommands: [Convert.self, Restore.self, Info.self, Report.self, Train.self, Eval.self, Sample.self])
}
