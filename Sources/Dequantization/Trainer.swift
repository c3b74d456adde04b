import Foundation
import FlowEngine

/// Trains p (and q) by maximising the ELBO, with the reference's protocol: each step takes `batch`
/// crops of `segment` samples, each from a sequence drawn uniformly among sequences at least one
/// segment long, at a uniform offset; shorter ones are skipped (and counted). Adam, no clipping by
/// default. Step s draws its crops and noise from SplitMix64 seeded with mix(seed ^ mix(s)), so a
/// resumed run continues exactly where it stopped.
public final class Trainer {
    /// The settings of the optimisation (the reference protocol's defaults). How many steps to
    /// run and when to checkpoint are the caller's loop's (`TrainOptions` in AudioDQ).
    public struct Hyperparameters: Sendable {
        /// Total steps the run aims at (`step()` itself does not stop at it).
        public var steps = 1500
        /// Crops per step.
        public var batch = 16
        /// Samples per crop; a positive multiple of the model's `lengthMultiple`.
        public var segment = 4096
        public var learningRate: Float = 1e-3
        public var seed: UInt64 = 0
        public var threads = 2
        /// Global gradient-norm clip (nil: none).
        public var maxGradNorm: Float?
        /// Linear learning-rate warm-up steps.
        public var warmupSteps = 0
        /// Constant (the reference protocol) or cosine decay to 0 over `steps`.
        public var schedule = LearningRateSchedule.constant
        /// Keep an exponential average of the weights with this decay cap (`ParameterAverage`;
        /// nil: none, the reference protocol). The model is saved with the averaged weights.
        /// A resumed averaged model continues its own average; nil then means its decay.
        public var averageDecay: Float?

        /// Most samples one step may take, batch × segment (2^24: 256 times the default 16 × 4096;
        /// the activations of p alone are about hidden × 4 bytes per sample and layer).
        public static let maxSamplesPerStep = 1 << 24

        public init() {}
    }

    public let model: DequantModel
    public let adam: Adam
    /// The weight average, when `averageDecay` is set or the resumed model has one.
    public let average: ParameterAverage?
    public let hyperparameters: Hyperparameters
    public let usable: [Corpus.Sequence]
    public let skipped: Int
    /// The cells of each usable sequence (its own quantizer's).
    let placements: [SequenceCells]
    private let objective: Objective
    private var crop: [UInt32]

    public init(model: DequantModel, corpus: Corpus, hyperparameters options: Hyperparameters) throws {
        try FlowInput.requireSame(model: model.input, data: corpus.input, path: "training data")
        guard options.segment > 0, options.segment % model.lengthMultiple == 0 else {
            throw DequantizationError.invalidHyperparameter(name: "segment", value: "\(options.segment)",
                                                            requirement: "a positive multiple of \(model.lengthMultiple), the model's length granularity")
        }
        guard options.batch > 0 else {
            throw DequantizationError.invalidHyperparameter(name: "batch", value: "\(options.batch)", requirement: "positive")
        }
        guard options.steps >= 0 else {
            throw DequantizationError.invalidHyperparameter(name: "steps", value: "\(options.steps)", requirement: "at least 0")
        }
        let (samplesPerStep, overflow) = options.batch.multipliedReportingOverflow(by: options.segment)
        guard !overflow, samplesPerStep <= Hyperparameters.maxSamplesPerStep else {
            throw DequantizationError.invalidHyperparameter(
                name: "batch x segment", value: "\(options.batch) x \(options.segment)",
                requirement: "at most \(Hyperparameters.maxSamplesPerStep) samples per step")
        }
        usable = corpus.sequences.filter { $0.bins.count >= options.segment }
        skipped = corpus.sequences.count - usable.count
        placements = corpus.placements(usable)
        guard !usable.isEmpty else {
            throw DequantizationError.noUsableData(reason: "no sequence is at least one segment (\(options.segment) samples) long")
        }
        self.model = model
        hyperparameters = options
        adam = try Adam(parameters: model.parameters,
                        options: .init(learningRate: options.learningRate, maxGradNorm: options.maxGradNorm, warmupSteps: options.warmupSteps,
                                      decaySteps: options.schedule == .cosine ? options.steps : 0))
        if let s = model.savedAdam { try adam.restore(stepCount: s.step, m: s.m, v: s.v) }
        if let saved = model.savedAverage {
            if let d = options.averageDecay, d != saved.decay {
                throw DequantizationError.invalidHyperparameter(name: "average decay", value: "\(d)",
                                                                requirement: "the resumed model's, \(saved.decay)")
            }
            let average = try ParameterAverage(parameters: model.parameters, decay: saved.decay)
            try average.restore(count: saved.count, values: model.parameters.map(\.value))
            for (p, raw) in zip(model.parameters, saved.raw) { p.value = raw }
            self.average = average
        } else {
            average = try options.averageDecay.map { try ParameterAverage(parameters: model.parameters, decay: $0) }
        }
        objective = Objective(model: model)
        crop = [UInt32](repeating: 0, count: options.batch * options.segment)
        try BLAS.ensureLoaded()
        BLAS.setThreads(1)
        model.flow.workers = max(1, options.threads)
        model.noise?.workers = max(1, options.threads)
    }

    static func stepRNG(seed: UInt64, step: Int) -> SplitMix64 {
        SplitMix64(seed: CounterRNG.mix(seed ^ CounterRNG.mix(UInt64(step) &+ 0x7F4A_7C15)))
    }

    /// The loss of step `model.step`'s batch at the current parameters (bits per sample), with
    /// the gradients accumulated. Throws `nonFiniteLoss` when the loss or a gradient is not finite;
    /// the parameters are then those of the last step whose loss was finite.
    public func computeLoss() throws -> Double {
        var rng = Trainer.stepRNG(seed: hyperparameters.seed, step: model.step)
        let t = hyperparameters.segment
        let batch = hyperparameters.batch
        var rows: [SequenceCells] = []
        rows.reserveCapacity(batch)
        for b in 0..<batch {
            let pick = Int(rng.next() % UInt64(usable.count))
            let s = usable[pick]
            rows.append(placements[pick])
            let offset = Int(rng.next() % UInt64(s.bins.count - t + 1))
            s.bins.withUnsafeBufferPointer { src in
                crop.withUnsafeMutableBufferPointer { dst in
                    (dst.baseAddress! + b * t).update(from: src.baseAddress! + offset, count: t)
                }
            }
        }
        let loss = try crop.withUnsafeBufferPointer {
            try objective.lossAndGradients(codes: $0, cells: rows, batch: batch, length: t, rng: &rng)
        }
        guard loss.isFinite, adam.gradientNorm().isFinite else {
            throw DequantizationError.nonFiniteLoss(step: model.step, lastCheckpoint: nil)
        }
        return loss
    }

    /// Applies the gradients of the last `computeLoss()` (Adam), folds the new weights into the
    /// average (when kept) and advances the step.
    public func update() {
        adam.step()
        average?.update()
        model.step += 1
    }

    /// One step: `computeLoss()` then `update()`; returns the loss in bits per sample.
    public func step() throws -> Double {
        let loss = try computeLoss()
        update()
        return loss
    }
}
