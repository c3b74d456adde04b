import DiscreteAudio

/// What audiodq knows about an open discrete audio file.
public struct SoundFileInfo: Sendable, Equatable {
    public var container: AudioContainer
    public var encoding: SampleEncoding
    public var sampleRate: Int
    public var channels: Int
    /// Frames (samples per channel) the header declares.
    public var frames: Int64

    public var binCount: Int { encoding.binCount }
    public var duration: Double { Double(frames) / Double(sampleRate) }
}
