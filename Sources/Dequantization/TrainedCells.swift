import DiscreteAudio

/// The cells a model's q was trained in, hence the only cells it may dequantize into: the flow's
/// input scale (`FlowInput`) and the quantizers of the training data (`DequantModel.trainedOn`'s
/// "Q.E" keys; none recorded: container cells of the model's encoding).
///
/// q(u | x) is a density of the within-cell position u given the condition training computed for
/// each code's cell (`SequenceCells`), so its noise means what it was trained to mean only in
/// those cells. A file's quantizer `fits` when it gives the flow the same input scale (domain, and
/// law in the code domain) and has the same cells (`Quantizer.hasSameCells`: signed and unsigned 8-bit PCM alike) as
/// one quantizer the model was trained on. Anything else (a code-domain model on the linear domain
/// or back, container-cell training on a detected lattice, μ-law bytes against expanded 16-bit μ-law)
/// is refused by the caller, never dequantized with noise q was not trained for.
public struct TrainedCells: Sendable, Equatable, CustomStringConvertible {
    /// The flow's input scale.
    public let input: FlowInput
    /// The quantizers of the training data (keys this version cannot read are left out).
    public let quantizers: [Quantizer]

    public init(input: FlowInput, quantizers: [Quantizer]) {
        self.input = input
        self.quantizers = quantizers
    }

    /// What `model` records: `trainedOn`'s quantizers (in key order), container cells of its
    /// encoding when it records none.
    public init(_ model: DequantModel) {
        let recorded = model.trainedOn.keys.sorted().compactMap(Self.quantizer(key:))
        self.init(input: model.input, quantizers: model.trainedOn.isEmpty ? [.container(model.encoding)] : recorded)
    }

    /// The quantizer of a `trainedOn` key "Q.E" (`QuantizerChoice` spelling Q, raw encoding name
    /// E); nil for a key this version cannot build.
    static func quantizer(key: String) -> Quantizer? {
        guard let dot = key.firstIndex(of: "."), let choice = QuantizerChoice(String(key[..<dot])),
              let encoding = SampleEncoding(rawValue: String(key[key.index(after: dot)...])) else { return nil }
        return try? choice.quantizer(encoding)
    }

    /// True when q may dequantize codes in `quantizer`'s cells (see the type).
    public func fits(_ quantizer: Quantizer) -> Bool {
        FlowInput(quantizer) == input && quantizers.contains { $0.hasSameCells(as: quantizer) }
    }

    /// "container of PCM signed 16-bit", "mulaw of G.711 mu-law": a quantizer as the messages name it.
    public static func name(_ q: Quantizer) -> String { "\(QuantizerChoice(q)) of \(q.encoding.displayName)" }

    /// "container of G.711 mu-law in the code domain of G.711 mu-law (K = 256)".
    public var description: String {
        let names = quantizers.isEmpty ? "no cells this version reads" : quantizers.map(Self.name).joined(separator: ", ")
        return "\(names) in the \(input)"
    }
}

extension DequantModel {
    /// The cells q was trained in (`TrainedCells`).
    public var trainedCells: TrainedCells { TrainedCells(self) }
}
