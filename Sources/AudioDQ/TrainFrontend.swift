import Foundation

/// `audiodq train`: builds or resumes a model, runs the trainer (Dequantization's `Trainer`),
/// logs, checkpoints. Warnings (skipped files) go to the diagnostics sink; progress to `events`.
public enum TrainFrontend {
    /// How a run ended.
    public struct Summary: Sendable {
        /// The model's step counter at the end.
        public var steps: Int
        /// Loss of the last step taken in this run (bits per sample), nil when none was.
        public var lastLoss: Double?
        /// `stopRequested` ended the run (after saving a checkpoint).
        public var interrupted: Bool
        /// Wall-clock seconds of the training loop.
        public var seconds: Double
    }

    /// Trains as `options` says and saves the model (atomically, at every checkpoint and at the
    /// end). Throws before any data is read when the model file exists (without `resume` or
    /// `force`), is missing for `resume`, or conflicts with the given architecture.

    public static func run(_ options: TrainOptions, diagnostics: DiagnosticSink,
                           events: (TrainEvent) -> Void) throws -> Summary {
        let exists = FileManager.default.fileExists(atPath: options.modelPath)
        if exists && !options.resume && !options.force {
            throw AudioDQError.outputExists(path: options.modelPath)
        }
        if options.resume && !exists { throw AudioDQError.noModelToResume(path: options.modelPath) }
        // Check the destination before spending time on data.
        _ = try AtomicOutput(path: options.modelPath, force: true, inputs: options.data)
        // a resumed model is checked against the options before the data is read
        let resumed = try options.resume ? resumedModel(options) : nil
        let (corpus, skippedFiles) = try CorpusLoader.load(options.data, quantizer: options.quantizer, domain: options.domain,
                                                           diagnostics: diagnostics)
        let model: DequantModel
        if let resumed {
            model = resumed
        } else {
            var noise = options.noise
            if options.noiseCodeSteps { noise.codeSteps = corpus.codeStepScale }
            model = try DequantModel(flow: options.flow, noise: options.method == .variational ? noise : nil,
                                     encoding: corpus.encoding, sampleRate: corpus.sampleRate, seed: options.hyperparameters.seed,
                                     input: corpus.input)
        }
        try FlowInput.requireSame(model: model.input, data: corpus.input, path: options.modelPath)
        record(corpus, in: model)
        let trainer = try Trainer(model: model, corpus: corpus, hyperparameters: options.hyperparameters)
        events(.loaded(sequences: corpus.sequences.count, usable: trainer.usable.count, skippedShort: trainer.skipped,
                       skippedFiles: skippedFiles, samples: corpus.sampleCount))
        let log = try options.logPath.map { try JSONLLog(path: $0, append: options.resume) }
        let start = Date()
        var lastLoss: Double?
        var savedAt: String? = options.resume ? options.modelPath : nil
        let perStep = Double(options.hyperparameters.batch * options.hyperparameters.segment)
        var window: [Double] = []
        // A checkpoint is written only for parameters whose loss has been seen finite: the state
        // after an update is saved at the next step, between its loss and its update.
        var due = false
        func save() throws {
            try model.save(to: options.modelPath, adam: trainer.adam, average: trainer.average, flush: AtomicOutput.durable)
            savedAt = options.modelPath
            events(.checkpoint(step: model.step, path: options.modelPath))
            due = false
        }
        func checkedLoss() throws -> Double {
            do { return try trainer.computeLoss() } catch DequantizationError.nonFiniteLoss(let s, _) {
                throw DequantizationError.nonFiniteLoss(step: s, lastCheckpoint: savedAt)
            }
        }
        while model.step < options.hyperparameters.steps {
            let t0 = Date()
            let loss = try checkedLoss()
            let stop = options.stopRequested()
            if due || stop { try save() }
            if stop {
                return Summary(steps: model.step, lastLoss: lastLoss, interrupted: true, seconds: Date().timeIntervalSince(start))
            }
            let rate = Double(trainer.adam.currentLearningRate)   // the rate this step's update uses
            trainer.update()
            let dt = Date().timeIntervalSince(t0)
            window.append(dt)
            if window.count > 20 { window.removeFirst() }
            lastLoss = loss
            let sps = perStep / (window.sorted()[window.count / 2])
            let p = TrainProgress(step: model.step, steps: options.hyperparameters.steps, loss: loss, samplesPerSecond: sps,
                                     elapsed: Date().timeIntervalSince(start))
            try log?.write(["step": Double(model.step), "lossBitsPerSample": loss, "samplesPerSecond": sps,
                            "elapsedSeconds": p.elapsed, "learningRate": rate])
            events(.progress(p))
            if options.checkpointEvery > 0 && model.step % options.checkpointEvery == 0 { due = true }
        }
        // the final parameters: one more loss on the next batch proves them finite before saving
        _ = try checkedLoss()
        try save()
        return Summary(steps: model.step, lastLoss: lastLoss, interrupted: false, seconds: Date().timeIntervalSince(start))
    }

    /// Adds the corpus's quantizers to `model.trainedOn` (sequences per "Q.E", the larger count
    /// kept on resume), unless every sequence is in the cells of one-code cells of the model's
    /// encoding (`Quantizer.hasSameCells`: signed and unsigned 8-bit PCM mixed included; 16-bit
    /// codes next to an 8-bit first file are not) and the model records nothing yet: such a model
    /// file stays byte for byte what it was.
    static func record(_ corpus: Corpus, in model: DequantModel) {
        var seen: [String: Int] = [:]
        var plain = model.input == .container(model.encoding)
        let own = Quantizer.container(model.encoding)
        for s in corpus.sequences {
            let q = corpus.quantizer(of: s)
            seen["\(QuantizerChoice(q)).\(q.encoding.rawValue)", default: 0] += 1
            plain = plain && q.hasSameCells(as: own)
        }
        guard !(plain && model.trainedOn.isEmpty) else { return }
        for (k, n) in seen { model.trainedOn[k] = max(model.trainedOn[k] ?? 0, n) }
    }

    /// The model in `options.modelPath` to resume, when its method is `options.method` and it
    /// has every architecture setting in `options.given`.
    static func resumedModel(_ options: TrainOptions) throws -> DequantModel {
        let model = try DequantModel.load(path: options.modelPath)
        guard model.method == options.method else {
            throw DequantizationError.wrongMethod(path: options.modelPath, expected: options.method, found: model.method)
        }
        if let c = options.given.conflicts(with: model) {
            throw AudioDQError.conflictsWithModel(path: options.modelPath, setting: c.setting, given: c.given, model: c.model)
        }
        return model
    }
}
