import ArgumentParser
import AudioDQ
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove dequantization noise is clean: spectral and statistical checks per channel.",
        discussion: """
        Checks (names are stable): containment, uniformity (grid-aware KS), edge-mass, tonal-spur, \
        block-spur, whiteness (Ljung-Box), coherence (noise vs codes), flatness. Thresholds come \
        from theory at a family-wise alpha per channel (Bonferroni over the checks that apply). \
        Without --dequantized, ORIGINAL is dequantized here exactly as `convert` would. \
        --check exits 1 when any applicable check fails; without it the exit code ignores findings. \
        A check the file is too short for is skipped (listed with the reason) and does not count.
        """)

    @Argument(help: "The original discrete audio.")
    var original: String

    @Option(help: "Dequantized samples to check (.f32, .f64, .npy, .wav), e.g. from another tool.")
    var dequantized: String?

    @OptionGroup var dequant: DequantOptions

    @Option(help: "Write every metric, array and threshold as JSON (schema audiodq.report/1).")
    var json: String?

    @Option(help: "Write a self-contained HTML page with the plots.")
    var html: String?

    @Flag(help: "Exit 1 when any applicable check fails.")
    var check = false

    @Option(help: "Welch segment length (samples): an even number from 16 to 1048576.")
    var nperseg: Int = 1024

    @Option(help: "Block length B to test for block-edge spurs (default: scan powers of two 256...65536).")
    var block: Int?

    @Option(help: "Family-wise significance level per channel.")
    var alpha: Double = 0.01

    @Flag(name: .shortAndLong, help: "Print nothing but failures.")
    var quiet = false

    func validate() throws {
        guard DiagnosticsConfig.isValidNperseg(nperseg) else {
            throw ValidationError("--nperseg must be \(DiagnosticsConfig.npersegRule), got \(nperseg)")
        }
        if let block, block < 2 { throw ValidationError("--block must be at least 2") }
        guard alpha > 0, alpha < 0.5 else { throw ValidationError("--alpha must be in (0, 0.5)") }
        if dequantized != nil && dequant.dtype != nil {
            throw ValidationError("--dtype applies when dequantizing here; --dequantized values have their own type")
        }
        if dequant.method == .variational && dequant.model == nil && dequantized == nil {
            throw ValidationError("--method variational needs --model M (or --dequantized Y)")
        }
    }

    func run() throws {
        var options = ReportOptions(original: original, settings: try dequant.settings())
        options.dequantized = dequantized
        options.config = DiagnosticsConfig(nperseg: nperseg, blockLength: block, alpha: alpha)
        let inputs = [original] + (dequantized.map { [$0] } ?? [])
        let report = try Reporter.run(options)
        if !quiet, let q = report.parameters.quantizer {
            // the cells judged, announced as convert announces its quantizer
            stderrDiagnostics(Diagnostic(AudioDQError.quantizerInUse(path: original, detail: q.line), severity: .note))
        }
        if let json { try Reporter.writeAtomically(try report.jsonData(), to: json, inputs: inputs) }
        if let html { try Reporter.writeAtomically(Data(report.html().utf8), to: html, inputs: inputs) }
        if !quiet { print(report.terminalSummary()) }
        if check && !report.passed {
            let failed = report.failedChecks.map { "channel \($0.channel) \($0.check.name)" }.joined(separator: ", ")
            printError("audiodq: check failed: \(original): \(failed)")
            throw CommandFailure.reported
        }
    }
}
