import ArgumentParser
import AudioDQ
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a waveform flow (and, with --method variational, its dequantizer) on discrete audio.",
        discussion: """
        Protocol (as the PyTorch reference): each step takes --batch crops of --segment samples, each \
        from a sequence drawn uniformly among those at least one segment long, at a uniform offset. \
        Loss = -ELBO in bits per sample, ELBO = log p((x+u)/K - 1/2) - T log K - log q(u|x). \
        Files that cannot be read as discrete audio are skipped with a warning. Ctrl-C saves a \
        checkpoint; --resume continues from it. A non-finite loss stops training and keeps the last \
        good checkpoint.
        """)

    @Argument(help: "Audio files, folders (recursive) or manifests.")
    var data: [String]

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
        let (samplesPerStep, overflow) = batch.multipliedReportingOverflow(by: segment)
        guard !overflow, samplesPerStep <= TrainingOptions.maxSamplesPerStep else {
            throw ValidationError("--batch x --segment must be at most \(TrainingOptions.maxSamplesPerStep) samples per step")
        }
        typealias L = DequantModel.Limits
        guard L.squeeze.contains(squeeze), L.flowSteps.contains(flowSteps), L.hidden.contains(hidden),
              L.noiseLayers.contains(qLayers ?? 1), L.hidden.contains(qHidden ?? 1) else {
            throw ValidationError("architecture out of range: --squeeze \(L.squeeze.lowerBound) to \(L.squeeze.upperBound), --flow-steps and --q-layers at most \(L.flowSteps.upperBound), --hidden and --q-hidden at most \(L.hidden.upperBound)")
        }
    }

    func run() throws {
        var o = TrainOptions(data: data, modelPath: model)
        o.method = method
        let p = WaveformFlow.Configuration()
        o.flow = .init(squeeze: squeeze ?? p.squeeze, steps: flowSteps ?? p.steps, hidden: hidden ?? p.hidden, kernelSize: 3)
        let preset = arch ?? .audiodq
        o.noise = .init(layers: qLayers ?? preset.noise.layers, hidden: qHidden ?? preset.noise.hidden,
                        base: qBase ?? preset.noise.base, contextLevels: qContext ?? 1)
        o.noiseCodeSteps = qCodeSteps ?? preset.codeSteps
        o.given.flowSteps = flowSteps
        o.given.hidden = hidden
        o.given.squeeze = squeeze
        o.given.preset = arch
        o.given.qBase = qBase
        o.given.qLayers = qLayers
        o.given.qHidden = qHidden
        o.given.qContext = qContext
        o.given.qCodeSteps = qCodeSteps
        o.training.steps = steps
        o.training.batch = batch
        o.training.segment = segment
        o.training.learningRate = lr
        o.training.seed = seed
        o.training.threads = threads
        o.training.maxGradNorm = clip
        o.training.warmupSteps = warmup
        o.training.checkpointEvery = checkpointEvery
        o.logPath = log
        o.resume = resume
        o.force = force
        // Swift initialises a static lazily, on first access (swift_once, which may take a lock):
        // touch the flag here so the handler only ever does a lock-free atomic store to storage
        // that already exists (async-signal-safe), never runs an initialiser.
        Training.interrupted.store(false, ordering: .relaxed)
        signal(SIGINT) { _ in Training.interrupted.store(true, ordering: .relaxed) }
        // a parent may have started us with SIGINT blocked (the mask is inherited): unblock it
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let terminal = isatty(2) == 1
        var lastLine = 0.0
        let s = try reportingErrors {
            try Training.run(o) { event in
                switch event {
                case .warning(let w): printError(w)
                case .loaded(let seqs, let usable, let short, let bad, let samples):
                    if !quiet { printError("training on \(usable) of \(seqs) sequences (\(samples) samples); \(short) shorter than one segment, \(bad) unreadable files skipped") }
                case .progress(let p):
                    guard !quiet else { return }
                    let eta = p.samplesPerSecond > 0 ? Double(p.steps - p.step) * Double(batch * segment) / p.samplesPerSecond : 0
                    let line = "step \(p.step)/\(p.steps)  loss \(String(format: "%.4f", p.loss)) bits/sample  \(String(format: "%.2f", p.samplesPerSecond / 1e6)) M samples/s  ETA \(ProgressPrinter.clock(eta))"
                    if terminal {
                        printError("\r\u{1B}[K" + line, newline: false)
                    } else if p.elapsed - lastLine >= 10 || p.step == p.steps {
                        lastLine = p.elapsed
                        printError(line)
                    }
                case .checkpoint(let step, let path):
                    if !quiet && !terminal { printError("checkpoint: step \(step) -> \(path)") }
                }
            }
        }
        if terminal && !quiet { printError("") }
        if s.interrupted {
            printError("interrupted at step \(s.steps); checkpoint saved to \(model) (continue with --resume)")
            throw ExitCode(130)
        }
        printError("trained \(s.steps) steps in \(String(format: "%.1f", s.seconds)) s; last loss \(s.lastLoss.map { String(format: "%.4f", $0) } ?? "n/a") bits/sample; model \(model)")
    }
}
