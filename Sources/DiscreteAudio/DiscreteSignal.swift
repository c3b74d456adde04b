/// A block of discrete audio as bin indices, interleaved by frame.
///
/// Invariants: `bins.count == frames * channels`; every element is in 0..<K.
/// Bins are stored as `UInt32` so that one type holds every encoding up to 24-bit.
public struct DiscreteSignal: Sendable, Equatable {
    public var encoding: SampleEncoding
    public var sampleRate: Int
    public var channels: Int
    public var bins: [UInt32]

    public init(encoding: SampleEncoding, sampleRate: Int, channels: Int, bins: [UInt32]) {
        precondition(channels > 0 && bins.count % channels == 0, "bins must hold whole frames")
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.channels = channels
        self.bins = bins
    }

    /// K, the number of bins of the encoding.
    public var binCount: Int { encoding.binCount }
    /// Number of frames (samples per channel).
    public var frames: Int { bins.count / channels }
    /// Duration in seconds.
    public var duration: Double { Double(frames) / Double(sampleRate) }

    /// The bins of one channel, de-interleaved.
    public func channel(_ c: Int) -> [UInt32] {
        precondition(c >= 0 && c < channels)
        return stride(from: c, to: bins.count, by: channels).map { bins[$0] }
    }
}
