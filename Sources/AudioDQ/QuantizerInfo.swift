import DiscreteAudio

/// The quantizer `audiodq info` reports for a file: what `QuantizerDetector` decided from one pass
/// over its codes (linear PCM), or the container's own codes (G.711 bytes: the law's codes are the
/// quantizer, nothing to detect).
///
/// `kind` is `container` (cells one code wide), `lattice` (step 2^`stepLog2` in container units:
/// `bitsUsed` = bits − stepLog2 of the container's bits carry the signal) or `g711-linear` (the
/// decision intervals of `law` on the linear scale, at the container's scale m = K/65536).
public struct QuantizerInfo: Codable, Sendable, Equatable {
    public var kind: String
    public var stepLog2: Int?
    public var bitsUsed: Int?
    public var law: SampleEncoding?
    /// `Quantizer.description`, e.g. "lattice 2^8 (8 of 16 bits)".
    public var name: String
    /// The rule that decided (`QuantizerDetection.Basis`).
    public var basis: QuantizerDetection.Basis
    /// One line with the deciding figures.
    public var reason: String
    /// The detector's figures (nil for G.711 bytes, where nothing is detected).
    public var evidence: QuantizerDetection.Evidence?

    /// From a detection of linear PCM.
    public init(_ d: QuantizerDetection) {
        self.init(quantizer: d.quantizer, basis: d.basis, reason: d.reason, evidence: d.evidence)
    }

    /// For a file whose codes are G.711 bytes (or any encoding nothing is detected in).
    public static func containerCodes(_ encoding: SampleEncoding) -> QuantizerInfo {
        QuantizerInfo(quantizer: .container(encoding), basis: .container,
                      reason: "the file holds \(encoding.displayName) codes: the container's codes are the quantizer (nothing to detect)",
                      evidence: nil)
    }

    init(quantizer q: Quantizer, basis: QuantizerDetection.Basis, reason: String, evidence: QuantizerDetection.Evidence?) {
        (kind, stepLog2, law) = q.kind.recorded
        bitsUsed = stepLog2.map { q.encoding.bits - $0 }
        name = q.description
        self.basis = basis
        self.reason = reason
        self.evidence = evidence
    }
}
