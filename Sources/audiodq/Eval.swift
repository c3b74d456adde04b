import ArgumentParser
import AudioDQ
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Held-out bits per sample of a trained model: ELBO and importance-weighted bound.",
        discussion: """
        Each file (each channel) is scored as one sequence of its first floor(n/g)*g samples, g the \
        model's length granularity (16 for the reference); totals are over scored samples. \
        bits/sample = -log2 P(x) bound per sample, the cells' width term (sum log2(w/S), shown per \
        file and in total) included, each file in its own quantizer's cells (--quantizer). --iw K adds the importance-weighted bound with K \
        draws (log-mean-exp in Double).
        """)

    @Argument(help: "Audio files, folders (recursive) or manifests.")
    var data: [String]

    @OptionGroup var cells: QuantizerOptions

    @Option(help: "Trained model (.dqm).")
    var model: String

    @Option(help: "Importance samples for the IWBO (0: ELBO only).")
    var iw: Int = 0

    @Option(help: "Seed of the evaluation noise.")
    var seed: UInt64 = 0

    @Option(help: "Refuse a model trained with another method.")
    var method: DequantMethod?

    @Option(help: "Worker threads.")
    var threads: Int = defaultThreads()

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard iw >= 0, threads > 0 else { throw ValidationError("--iw must be >= 0 and --threads >= 1") }
    }

    func run() throws {
        var options = EvalOptions(data: data, modelPath: model)
        options.quantizer = cells.quantizer
        options.domain = cells.domain
        options.importanceSamples = iw
        options.seed = seed
        options.method = method
        options.threads = threads
        let r = try EvalFrontend.run(options, diagnostics: stderrDiagnostics)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            var d = try e.encode(r)
            if r.iwboBitsPerSample == nil {
                // the interface promises the key, null without --iw
                var obj = try JSONSerialization.jsonObject(with: d) as! [String: Any]
                obj["iwboBitsPerSample"] = NSNull()
                d = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            }
            print(String(decoding: d, as: UTF8.self))
        } else {
            for f in r.files {
                print("\(f.name)  \(f.samples) samples  ELBO \(String(format: "%.4f", f.elboBitsPerSample))" +
                      (f.iwboBitsPerSample.map { "  IWBO \(String(format: "%.4f", $0))" } ?? "") +
                      "  quantizer \(f.quantizer)  width \(String(format: "%.4f", f.widthBitsPerSample))")
            }
            print("total: \(r.files.count) files, \(r.samples) samples, ELBO \(String(format: "%.4f", r.elboBitsPerSample)) bits/sample" +
                  (r.iwboBitsPerSample.map { ", IWBO(\(iw)) \(String(format: "%.4f", $0)) bits/sample" } ?? "") +
                  (r.elboMeanBitsPerSample.map { ", ELBO mean of \(iw) draws \(String(format: "%.4f", $0))" } ?? "") +
                  ", width term \(String(format: "%.4f", r.widthBitsPerSample)) (\(r.method))")
        }
    }
}

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw audio from a trained flow and write it in the model's encoding.")

    @Option(help: "Trained model (.dqm).")
    var model: String

    @Option(help: "Length in seconds.")
    var seconds: Double = 2

    @Option(help: "Seed of the draw.")
    var seed: UInt64 = 0

    @Option(help: "Temperature: z ~ N(0, T^2 I).")
    var temperature: Float = 1

    @Flag(help: "Replace an existing output.")
    var force = false

    @Argument(help: "Output audio (.wav, .aiff, .au, .flac, .raw).")
    var output: String

    func validate() throws {
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
    }

    func run() throws {
        let s = try Sampler.run(modelPath: model, seconds: seconds, seed: seed, temperature: temperature, output: output, force: force)
        printError("\(output): \(s.frames) frames" + (s.clamped > 0 ? ", \(s.clamped) samples outside the range clamped" : ""))
    }
}
