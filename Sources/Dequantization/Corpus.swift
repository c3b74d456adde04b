import DiscreteAudio

/// Discrete sequences to train or evaluate on: one entry per file and channel, all of one encoding.
public struct Corpus: Sendable {
    public struct Sequence: Sendable {
        public var name: String
        public var bins: [UInt32]
        public init(name: String, bins: [UInt32]) {
            self.name = name
            self.bins = bins
        }
    }

    public var encoding: SampleEncoding
    public var sampleRate: Int
    public var sequences: [Sequence]

    public init(encoding: SampleEncoding, sampleRate: Int, sequences: [Sequence]) {
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.sequences = sequences
    }

    public var sampleCount: Int { sequences.reduce(0) { $0 + $1.bins.count } }
}
