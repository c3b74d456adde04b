import Foundation
import Synchronization

/// `audiodq train`: builds or resumes a model, runs the trainer, logs, checkpoints.
public struct TrainOptions: Sendable {
    public var data: [String]
    public var modelPath: String
    public var method: DequantMethod = .uniform
    public var flow = WaveformFlow.Configuration()
    public var noise = NoiseFlow.Configuration()
    /// Give q the code steps (`NoiseFlow.Configuration.codeSteps` = K/2, K from the data).
    public var noiseCodeSteps = false
    public var training = TrainingOptions()
    public var logPath: String?
    /// Continue training the model in `modelPath`, which must exist; its architecture is kept,
    /// and each setting in `given` must equal it.
    public var resume = false
    /// The architecture settings given explicitly (checked against the checkpoint on resume).
    public var given = ArchitectureRequest()
    public var force = false

    public init(data: [String], modelPath: String) {
        self.data = data
        self.modelPath = modelPath
    }
}

public enum TrainingEvent: Sendable {
    case loaded(sequences: Int, usable: Int, skippedShort: Int, skippedFiles: Int, samples: Int)
    case progress(TrainingProgress)
    case checkpoint(step: Int, path: String)
    case warning(String)
}

public enum Training {
    /// Set from a SIGINT handler: the loop saves a checkpoint and returns at the next step.
    /// Touch it before installing the handler (a static is initialised lazily on first access,
    /// which a signal handler must not trigger); the handler then only stores to it.
    public static let interrupted = Atomic<Bool>(false)

    public struct Summary: Sendable {
        public var steps: Int
        public var lastLoss: Double?
        public var interrupted: Bool
        public var seconds: Double
    }

    public static func run(_ o: TrainOptions, events: (TrainingEvent) -> Void) throws -> Summary {
        let exists = FileManager.default.fileExists(atPath: o.modelPath)
        if exists && !o.resume && !o.force {
            throw AudioDQError.outputExists(path: o.modelPath)
        }
        if o.resume && !exists { throw AudioDQError.noModelToResume(path: o.modelPath) }
        // Check the destination before spending time on data.
        _ = try AtomicOutput(path: o.modelPath, force: true, inputs: o.data)
        // a resumed model is checked against the options before the data is read
        let resumed = try o.resume ? resumedModel(o) : nil
        let (corpus, skippedFiles) = try CorpusLoader.load(o.data) { events(.warning($0)) }
        let model: DequantModel
        if let resumed {
            model = resumed
        } else {
            var noise = o.noise
            if o.noiseCodeSteps { noise.codeSteps = corpus.encoding.binCount / 2 }
            model = try DequantModel(flow: o.flow, noise: o.method == .variational ? noise : nil,
                                     encoding: corpus.encoding, sampleRate: corpus.sampleRate, seed: o.training.seed)
        }
        guard model.binCount == corpus.encoding.binCount else {
            throw DequantizationError.binCountMismatch(path: o.modelPath, model: model.binCount, data: corpus.encoding.binCount)
        }
        let trainer = try Trainer(model: model, corpus: corpus, options: o.training)
        events(.loaded(sequences: corpus.sequences.count, usable: trainer.usable.count, skippedShort: trainer.skipped,
                       skippedFiles: skippedFiles, samples: corpus.sampleCount))
        let log = try o.logPath.map { try JSONLLog(path: $0, append: o.resume) }
        let start = Date()
        var lastLoss: Double?
        var savedAt: String? = o.resume ? o.modelPath : nil
        let perStep = Double(o.training.batch * o.training.segment)
        var window: [Double] = []
        // A checkpoint is written only for parameters whose loss has been seen finite: the state
        // after an update is saved at the next step, between its loss and its update.
        var due = false
        func save() throws {
            try model.save(to: o.modelPath, adam: trainer.adam, flush: AtomicOutput.durable)
            savedAt = o.modelPath
            events(.checkpoint(step: model.step, path: o.modelPath))
            due = false
        }
        func checkedLoss() throws -> Double {
            do { return try trainer.computeLoss() } catch DequantizationError.nonFiniteLoss(let s, _) {
                throw DequantizationError.nonFiniteLoss(step: s, lastCheckpoint: savedAt)
            }
        }
        while model.step < o.training.steps {
            let t0 = Date()
            let loss = try checkedLoss()
            if due || interrupted.load(ordering: .relaxed) { try save() }
            if interrupted.load(ordering: .relaxed) {
                return Summary(steps: model.step, lastLoss: lastLoss, interrupted: true, seconds: Date().timeIntervalSince(start))
            }
            trainer.update()
            let dt = Date().timeIntervalSince(t0)
            window.append(dt)
            if window.count > 20 { window.removeFirst() }
            lastLoss = loss
            let sps = perStep / (window.sorted()[window.count / 2])
            let p = TrainingProgress(step: model.step, steps: o.training.steps, loss: loss, samplesPerSecond: sps,
                                     elapsed: Date().timeIntervalSince(start))
            try log?.write(["step": Double(model.step), "lossBitsPerSample": loss, "samplesPerSecond": sps,
                            "elapsedSeconds": p.elapsed, "learningRate": Double(trainer.adam.currentLearningRate)])
            events(.progress(p))
            if o.training.checkpointEvery > 0 && model.step % o.training.checkpointEvery == 0 { due = true }
        }
        // the final parameters: one more loss on the next batch proves them finite before saving
        _ = try checkedLoss()
        try save()
        return Summary(steps: model.step, lastLoss: lastLoss, interrupted: false, seconds: Date().timeIntervalSince(start))
    }

    /// The model in `o.modelPath` to resume, when its method is `o.method` and it has every
    /// architecture setting in `o.given`.
    static func resumedModel(_ o: TrainOptions) throws -> DequantModel {
        let model = try DequantModel.load(path: o.modelPath)
        guard model.method == o.method else {
            throw DequantizationError.wrongMethod(path: o.modelPath, expected: o.method, found: model.method)
        }
        if let c = o.given.conflicts(with: model) {
            throw AudioDQError.conflictsWithModel(path: o.modelPath, flag: c.flag, given: c.given, model: c.model)
        }
        return model
    }
}
/// Appends one JSON object per line.
final class JSONLLog {
    private let handle: FileHandle
    init(path: String, append: Bool) throws {
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw AudioDQError.cannotWrite(path: path, reason: "cannot create log")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw AudioDQError.cannotWrite(path: path, reason: "cannot open log") }
        h.seekToEndOfFile()
        handle = h
    }
    func write(_ fields: [String: Double]) throws {
        let body = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        do { try handle.write(contentsOf: Data(("{" + body + "}\n").utf8)) } catch {
            throw AudioDQError.cannotWrite(path: "training log", reason: "\(error)")
        }
    }
}
