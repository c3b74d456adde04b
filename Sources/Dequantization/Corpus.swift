import DiscreteAudio

/// Discrete sequences to train or evaluate on: one entry per file and channel. Each sequence
/// carries its own quantizer (its cells: the width of each sample's cell is its own file's);
/// all of them give the flow one input scale, `input` (`FlowInput`). `encoding` is the first
/// file's (the model records it, as before).
public struct Corpus: Sendable {
    public struct Sequence: Sendable {
        public var name: String
        public var bins: [UInt32]
        /// The cells of the codes; nil: container cells of the corpus's encoding.
        public var quantizer: Quantizer?
        public init(name: String, bins: [UInt32], quantizer: Quantizer? = nil) {
            self.name = name
            self.bins = bins
            self.quantizer = quantizer
        }
    }

    public var encoding: SampleEncoding
    public var sampleRate: Int
    public var sequences: [Sequence]
    /// The flow's input scale for every sequence.
    public var input: FlowInput

    public init(encoding: SampleEncoding, sampleRate: Int, sequences: [Sequence], input: FlowInput? = nil) {
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.sequences = sequences
        self.input = input ?? .container(encoding)
    }

    public var sampleCount: Int { sequences.reduce(0) { $0 + $1.bins.count } }

    /// The quantizer of a sequence (container cells of `encoding` when it names none).
    public func quantizer(of s: Sequence) -> Quantizer { s.quantizer ?? .container(encoding) }

    /// q's code-step scale for this corpus (`NoiseFlow.Configuration.codeSteps`): P/2 of its
    /// quantizers' code scale (`Quantizer.codeCount`: K/2 for container cells, K'/2 for a
    /// lattice, 128 for G.711 cells), the largest when sequences differ, so the step feature is
    /// one unit per cell of the finest quantizer (coarser cells' steps saturate towards ±1).
    public var codeStepScale: Int {
        var qs = Set<Quantizer>()
        for s in sequences { qs.insert(quantizer(of: s)) }
        return qs.map { $0.codeCount / 2 }.max() ?? encoding.binCount / 2
    }

    /// One placement per sequence, built once per distinct quantizer.
    public func placements(_ seqs: [Sequence]) -> [SequenceCells] {
        var built: [Quantizer: SequenceCells] = [:]
        return seqs.map { s in
            let q = quantizer(of: s)
            if let p = built[q] { return p }
            let p = SequenceCells(q)
            built[q] = p
            return p
        }
    }
}
