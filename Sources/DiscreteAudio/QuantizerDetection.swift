/// What `QuantizerDetector` concluded about a linear PCM stream, with the evidence behind it.
///
/// **The evidence rule.** Let D be the number of distinct nonzero sample values (0 lies on every
/// lattice and is a μ-law level, so it proves nothing) and k the largest exponent with every
/// sample a multiple of 2^k.
///
/// 1. *G.711 levels* (16/24-bit containers, at libsndfile's / sox's scale m = K/65536): every
///    distinct value is a level of the law, D ≥ 32, and the evidence is at least 30 bits.
///    Evidence = Σ over the distinct nonzero values of log2(m·Δ/2^k), floored at 0, where Δ is the
///    level spacing of the value's segment (`G711Cells.segmentSpacing`): a value drawn at random
///    from the 2^k lattice the data also lies on hits a level of that segment with probability
///    2^k/(m·Δ), so all of them do by chance with probability 2^−evidence ≤ 2^−30 ≈ 9.3e−10.
///    (μ-law levels are multiples of 4, A-law levels of 8: without this the data would also pass as
///    a 2^2 or 2^3 lattice, whose cells are finer than the G.711 ones.)
/// 2. *Lattice* 2^k, k ≥ 1, from the data: D ≥ 32. Against the next finer lattice 2^(k−1) each
///    distinct value is a multiple of 2^k with probability 1/2, so the evidence is D bits and
///    chance needs probability 2^−D ≤ 2^−32 ≈ 2.3e−10. The same D ≥ 32 keeps synthetic signals with
///    few levels (square waves, a tone at fs/4, digital silence with clicks) and very short or very
///    quiet files in `container`: they sit on coarse lattices without being coarse recordings.
///    Consequence: fewer than 5 bits in use (≤ 31 nonzero levels) is never inferred from data.
/// 3. *Declared valid bits* b < bits (WAVE_FORMAT_EXTENSIBLE's wValidBitsPerSample and the like):
///    lattice 2^(bits − b) when no sample contradicts it (every sample a multiple of 2^(bits − b));
///    the header is the evidence, so D is not required. A contradicted declaration is ignored and
///    said in the reason.
/// 4. Otherwise `container`, with the reason.
///
/// Precedence: 1 (μ-law before A-law; with D ≥ 32 both cannot hold: they share only 16 nonzero
/// levels), then 2, then 3, then 4: the coarsest explanation the evidence supports wins (a data
/// lattice is never finer than an uncontradicted declaration, which every sample obeys).
public struct QuantizerDetection: Sendable, Equatable {
    /// Which rule decided.
    public enum Basis: String, Sendable, Equatable, Codable {
        case g711Levels = "g711-levels"
        case lattice
        case declaredValidBits = "declared-valid-bits"
        case container
    }

    /// The figures the rule looked at.
    public struct Evidence: Sendable, Equatable, Codable {
        /// Samples seen.
        public var samples: Int
        /// Distinct sample values, and those other than 0.
        public var distinctValues: Int
        public var distinctNonzero: Int
        /// Largest k with every sample a multiple of 2^k; nil when no sample is nonzero.
        public var commonStepLog2: Int?
        /// The header's valid bits, when it declares any.
        public var declaredValidBits: Int?
        /// Distinct values that are not μ-law / A-law levels at the container's scale (nil when the
        /// container cannot hold expanded G.711: 8-bit PCM).
        public var offMuLawLevels: Int?
        public var offALawLevels: Int?
        /// Evidence bits of the G.711 rule (nil: not every value is a level of that law).
        public var muLawEvidenceBits: Int?
        public var aLawEvidenceBits: Int?
        /// Evidence bits of the lattice rule: D when commonStepLog2 ≥ 1, else 0.
        public var latticeEvidenceBits: Int
    }

    /// D ≥ this for any claim made from the data alone.
    public static let minimumDistinctNonzero = 32
    /// Evidence ≥ this many bits (chance ≤ 2^−30 ≈ 9.3e−10) for a claim made from the data alone.
    public static let minimumEvidenceBits = 30

    /// The quantizer to dequantize with.
    public let quantizer: Quantizer
    public let basis: Basis
    /// One line saying why, with the deciding figures.
    public let reason: String
    public let evidence: Evidence
}
