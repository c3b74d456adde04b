import ArgumentParser
import AudioDQ
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a waveform flow (and, with --method variational, its dequantizer) on discrete audio.",
        discussion: """
        Protocol (as the PyTorch reference): each step takes --batch crops of --segment samples, each \
        from a sequence drawn uniformly among those at least one segment long, at a uniform offset. \
        Loss = -ELBO in bits per sample, ELBO = log p(v) + sum log(w/S) - log q(u|x), v = (lower + S/2 \
        + u w)/S - 1/2 a point of each code's cell of width w on the scale S (one-code cells: \
        v = (x+u)/K - 1/2, width term -T log K). Each file gets its own cells (--quantizer); a mix is \
        announced. The default preset saves the model with an average of the weights (--average); \
        --arch reference saves the last ones, as the reference does. \
        Files that cannot be read as discrete audio are skipped with a warning. Ctrl-C saves a \
        checkpoint; --resume continues from it. A non-finite loss stops training and keeps the last \
        good checkpoint.
        """)

    @Argument(help: "Audio files, folders (recursive) or manifests.")
    var data: [String]

    @OptionGroup var cells: QuantizerOptions

    @Option(help: "Model file to write (.dqm).")
    var model: String

    @Option(help: "Noise: uniform, or variational (learned q(u|x)).")
    var method: DequantMethod = .uniform

    @Option(help: """
        Architecture preset: audiodq (the default: p as the reference; for --method variational, q with \
        a logistic base conditioned on the code steps) or reference (exactly the PyTorch \
        MainFlow/Dequantizer).
        """)
    var arch: ArchitecturePreset?

    @Option(help: "Flow steps of p (default and reference: 6).")
    var flowSteps: Int?

    @Option(help: "Hidden channels of p's coupling nets (default and reference: 64).")
    var hidden: Int?

    @Option(help: "Squeeze factor of p (default and reference: 8).")
    var squeeze: Int?

    @Option(help: "Base noise of q: gaussian or logistic (sigmoid(eps) is U(0,1) at init). Default: the preset's (audiodq: logistic, reference: gaussian).")
    var qBase: BaseDistribution?

    @Option(help: "Coupling layers of q. Default: the preset's (audiodq: \(ArchitecturePreset.audiodq.noise.layers), reference: 4).")
    var qLayers: Int?

    @Option(help: "Hidden channels of q's coupling nets. Default: the preset's (audiodq: \(ArchitecturePreset.audiodq.noise.hidden), reference: 32).")
    var qHidden: Int?

    @Option(help: "Context levels of q: coupling pair j has dilations (1,2,4)*4^(j mod C) (default, both presets: 1).")
    var qContext: Int?

    @Flag(inversion: .prefixedNo, help: "Condition q also on the code steps x[t] - x[t-1] (squashed, in bins). Default: the preset's (audiodq: yes, reference: no).")
    var qCodeSteps: Bool?

    @Option(help: "Training steps in total.")
    var steps: Int = 1500

    @Option(help: "Crops per step.")
    var batch: Int = 16

    @Option(help: "Samples per crop (a multiple of 2 x squeeze).")
    var segment: Int = 4096

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Seed of the initialisation, crops and noise.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads.")
    var threads: Int = defaultThreads()

    @Option(help: "Clip the global gradient norm to this value (default: no clipping).")
    var clip: Float?

    @Option(help: "Linear learning-rate warm-up steps.")
    var warmup: Int = 0

    @Option(help: ArgumentHelp("Learning-rate schedule: constant (the reference protocol) or cosine (decays to 0 at --steps; resume with the same --steps to keep the schedule).", valueName: "schedule"))
    var lrSchedule: LearningRateSchedule = .constant

    @Option(help: ArgumentHelp("Keep an exponential average of the weights, a_t = d_t a_(t-1) + (1 - d_t) w_t with d_t = min(decay, (1 + t)/(10 + t)), and save the model with it (the raw weights are kept for --resume); 0: none, the last weights. Default: the preset's (audiodq: 0.999, reference: 0); a resumed model keeps its own.", valueName: "decay"))
    var average: Float?

    @Option(help: "Save a checkpoint every N steps (and at the end).")
    var checkpointEvery: Int = 500

    @Option(help: "Append one JSON line per step to this file.")
    var log: String?

    @Flag(help: "Continue training the model in --model (which must exist). Architecture flags may be given only with the model's values.")
    var resume = false

    @Flag(help: "Replace an existing model.")
    var force = false

    @Flag(name: .shortAndLong, help: "Print only errors and the final line.")
    var quiet = false

    func validate() throws {
        guard steps >= 0, batch > 0, threads > 0, lr > 0, warmup >= 0, checkpointEvery >= 0 else {
            throw ValidationError("--steps, --batch, --threads, --lr must be positive")
        }
        let p = WaveformFlow.Configuration()
        let flowSteps = flowSteps ?? p.steps, hidden = hidden ?? p.hidden, squeeze = squeeze ?? p.squeeze
        guard flowSteps > 0, hidden > 0, squeeze > 0, (qLayers ?? 1) > 0, (qHidden ?? 1) > 0 else {
            throw ValidationError("architecture sizes must be positive")
        }
        guard (1...4).contains(qContext ?? 1) else { throw ValidationError("--q-context must be 1 to 4") }
        guard segment > 0, segment % (2 * squeeze) == 0 else {
            throw ValidationError("--segment must be a positive multiple of \(2 * squeeze)")
        }
        if let clip, clip <= 0 { throw ValidationError("--clip must be positive") }
        if let average, !(0..<1).contains(average) { throw ValidationError("--average must be at least 0 and below 1") }
        let (samplesPerStep, overflow) = batch.multipliedReportingOverflow(by: segment)
        guard !overflow, samplesPerStep <= Trainer.Hyperparameters.maxSamplesPerStep else {
            throw ValidationError("--batch x --segment must be at most \(Trainer.Hyperparameters.maxSamplesPerStep) samples per step")
        }
        typealias L = DequantModel.Limits
        guard L.squeeze.contains(squeeze), L.flowSteps.contains(flowSteps), L.hidden.contains(hidden),
              L.noiseLayers.contains(qLayers ?? 1), L.hidden.contains(qHidden ?? 1) else {
            throw ValidationError("architecture out of range: --squeeze \(L.squeeze.lowerBound) to \(L.squeeze.upperBound), --flow-steps and --q-layers at most \(L.flowSteps.upperBound), --hidden and --q-hidden at most \(L.hidden.upperBound)")
        }
    }

    func run() throws {
        var options = TrainOptions(data: data, modelPath: model)
        options.quantizer = cells.quantizer
        options.domain = cells.domain
        options.method = method
        let p = WaveformFlow.Configuration()
        options.flow = .init(squeeze: squeeze ?? p.squeeze, steps: flowSteps ?? p.steps, hidden: hidden ?? p.hidden, kernelSize: 3)
        let preset = arch ?? .audiodq
        options.noise = .init(layers: qLayers ?? preset.noise.layers, hidden: qHidden ?? preset.noise.hidden,
                              base: qBase ?? preset.noise.base, contextLevels: qContext ?? 1)
        options.noiseCodeSteps = qCodeSteps ?? preset.codeSteps
        options.given.flowSteps = flowSteps
        options.given.hidden = hidden
        options.given.squeeze = squeeze
        options.given.preset = arch
        options.given.qBase = qBase
        options.given.qLayers = qLayers
        options.given.qHidden = qHidden
        options.given.qContext = qContext
        options.given.qCodeSteps = qCodeSteps
        options.given.average = average
        options.hyperparameters.steps = steps
        options.hyperparameters.batch = batch
        options.hyperparameters.segment = segment
        options.hyperparameters.learningRate = lr
        options.hyperparameters.seed = seed
        options.hyperparameters.threads = threads
        options.hyperparameters.maxGradNorm = clip
        options.hyperparameters.warmupSteps = warmup
        options.hyperparameters.schedule = lrSchedule
        // a new model: the flag, else the preset's; a resumed one: its own (the flag must agree)
        let decay = resume ? average : average ?? preset.averageDecay ?? 0
        options.hyperparameters.averageDecay = decay == 0 ? nil : decay
        options.checkpointEvery = checkpointEvery
        options.logPath = log
        options.resume = resume
        options.force = force
        options.stopRequested = InterruptHandler.interrupted
        InterruptHandler.install()
        let progress = TrainProgressPrinter(quiet: quiet, samplesPerStep: batch * segment)
        defer { progress.finish() }
        let s = try TrainFrontend.run(options, diagnostics: stderrDiagnostics, events: progress.handle)
        progress.finish()
        if s.interrupted {
            printError("interrupted at step \(s.steps); checkpoint saved to \(model) (continue with --resume)")
            throw CommandFailure.interrupted
        }
        printError("trained \(s.steps) steps in \(String(format: "%.1f", s.seconds)) s; last loss \(s.lastLoss.map { String(format: "%.4f", $0) } ?? "n/a") bits/sample; model \(model)")
    }
}
