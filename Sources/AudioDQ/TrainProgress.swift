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
