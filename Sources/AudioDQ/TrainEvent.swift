/// What `TrainFrontend.run` reports while it runs, in order: `loaded` once, then `progress`
/// after every step and `checkpoint` after every save. Warnings go to the diagnostics sink.
public enum TrainEvent: Sendable {
    /// The corpus is read: `usable` of `sequences` are at least one segment long
    /// (`skippedShort` are not); `skippedFiles` could not be read; `samples` in all sequences.
    case loaded(sequences: Int, usable: Int, skippedShort: Int, skippedFiles: Int, samples: Int)
    case progress(TrainProgress)
    case checkpoint(step: Int, path: String)
}

/// One step done.
public struct TrainProgress: Sendable {
    /// Steps done so far (the model's step counter).
    public var step: Int
    /// Steps the run aims at.
    public var steps: Int
    /// Batch loss, bits per sample (−ELBO).
    public var loss: Double
    /// Samples per second, batch × segment over the median of the last 20 step times.
    public var samplesPerSecond: Double
    /// Seconds since the run started.
    public var elapsed: Double

    public init(step: Int, steps: Int, loss: Double, samplesPerSecond: Double, elapsed: Double) {
        self.step = step
        self.steps = steps
        self.loss = loss
        self.samplesPerSecond = samplesPerSecond
        self.elapsed = elapsed
    }
}
