/// Logical shape (batch, channels, time) of a contiguous Float32 buffer: element (b, c, t) lives at
/// `(b * channels + c) * time + t`. All FlowEngine activations use this layout.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var batch: Int
    public var channels: Int
    public var time: Int

    public init(batch: Int, channels: Int, time: Int) {
        self.batch = batch
        self.channels = channels
        self.time = time
    }

    /// Number of elements, batch x channels x time.
    public var count: Int { batch * channels * time }
    /// Elements per batch item, channels x time.
    public var itemCount: Int { channels * time }

    public var description: String { "(\(batch), \(channels), \(time))" }

    /// Same batch and time, other channel count.
    public func with(channels c: Int) -> Shape { Shape(batch: batch, channels: c, time: time) }

    func validate(_ what: String) throws {
        guard batch > 0, channels > 0, time > 0 else {
            throw FlowEngineError.invalidShape(what: what, reason: "all of \(description) must be positive")
        }
    }
}
