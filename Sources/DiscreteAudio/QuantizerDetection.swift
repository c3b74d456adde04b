/// What `QuantizerDetector` concluded about a linear PCM stream, with the evidence behind it.
///
/// **The evidence rule.** Let k be the largest exponent with every sample a multiple of 2^k, and
/// D the number of *independent magnitudes*: the distinct nonzero distances |v − c| of the sample
/// values v from c = 0, or from the midrange c = (min + max)/2 when that gives fewer. Only these
/// are independent trials: v and 2c − v are multiples of 2^k together whenever 2c is (and it is
/// whenever min and max are), so a symmetric signal — a tone ±s, a tone with a DC offset c ± s —
/// offers one trial per distance, not two; 0 (or c) lies on every lattice and proves nothing.
/// The null hypothesis is "arbitrary integers": an arbitrary integer is a multiple of 2^k with
/// probability 2^−k, so D independent magnitudes all are with probability 2^−k·D. A claim from
/// the data alone needs **k·D ≥ 40 bits of evidence** (`requiredEvidenceBits`): chance ≤ 2^−40
/// ≈ 9.1e−13 per file, and over every k together Σ_{k·D ≥ 40} 2^−k·D ≤ 2 · 2^−40 = 2^−39.
///
/// 1. *G.711 levels* (16/24-bit containers, at libsndfile's / sox's scale m = K/65536): every
///    distinct value is a level of the law, and the evidence against the 2^k lattice the data
///    also lies on is ≥ 40 bits. Evidence = Σ over the distinct nonzero magnitudes |v| (the levels
///    are symmetric, so v and −v are one trial) of log2(m·Δ/2^k), floored at 0, where Δ is the
///    level spacing of the magnitude's segment (`G711Cells.segmentSpacing`): a value drawn at
///    random from the 2^k lattice hits a level of that segment with probability 2^k/(m·Δ), so all
///    of them do by chance with probability 2^−evidence ≤ 2^−40. It is never more than the
///    evidence against arbitrary integers, Σ log2(m·Δ). (μ-law levels are multiples of 4, A-law
///    levels of 8: without this the data would also pass as a 2^2 or 2^3 lattice, whose cells are
///    finer than the G.711 ones.)
/// 2. *Lattice* 2^k, k ≥ 1, from the data: k·D ≥ 40. A 2^k lattice offers at most 2^(bits−1−k)
///    nonzero magnitudes, so one with fewer than 40/k of them never qualifies: 4 valid bits or
///    fewer in an 8-bit container, 2 or fewer in 16-bit, 1 in 24-bit. Rounded or truncated tones
///    pass only by that chance: a tone of integer period P takes at most P/2 distinct magnitudes
///    (P/4 at zero phase), whose low bits behave as arbitrary; a zero-phase period-64 tone gives
///    16 bits of evidence on 2^1 and 32 on 2^2 whatever its amplitude, below 40 on both. DC and
///    silence have D = 0. Not protected: a signal built from a few round levels (say five powers
///    of two) is on a lattice and passes when k·D ≥ 40 (`--quantizer container` overrides).
///    The lattice is the coarsest the samples are on: a quiet file of a 2^k quantizer whose D
///    magnitudes all happen to be multiples of 2^(k+1) (chance 2^−D) gets the coarser cells, which
///    still hold every code.
/// 3. *Declared valid bits* b < bits (WAVE_FORMAT_EXTENSIBLE's wValidBitsPerSample, a plain WAVE
///    fmt chunk's wBitsPerSample that is not a multiple of 8, AIFF/AIFC COMM sampleSize): lattice
///    2^(bits − b) when no sample contradicts it (every sample a multiple of 2^(bits − b)); the
///    header is the evidence, so k·D ≥ 40 is not required. A contradicted declaration is ignored
///    and said in the reason.
/// 4. Otherwise `container`, with the reason.
///
/// Precedence: 1 (μ-law before A-law), then 2, then 3, then 4: the coarsest explanation the
/// evidence supports wins (a data lattice is never finer than an uncontradicted declaration,
/// which every sample obeys).
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
        /// Distinct nonzero magnitudes |v|.
        public var distinctMagnitudes: Int
        /// Distinct nonzero distances |v − (min + max)/2| from the midrange (0 when no sample is
        /// nonzero).
        public var midrangeDistances: Int
        /// D = min(distinctMagnitudes, midrangeDistances): the independent trials.
        public var independentValues: Int
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
        /// Evidence bits of the lattice rule: k·D with k = commonStepLog2 (0 when none).
        public var latticeEvidenceBits: Int
        /// Bits of evidence a claim from the data alone needs (`QuantizerDetection.requiredEvidenceBits`).
        public var requiredEvidenceBits: Int
    }

    /// Evidence ≥ this many bits (chance ≤ 2^−40 ≈ 9.1e−13) for a claim made from the data alone.
    public static let requiredEvidenceBits = 40

    /// The quantizer to dequantize with.
    public let quantizer: Quantizer
    public let basis: Basis
    /// One line saying why, with the deciding figures.
    public let reason: String
    public let evidence: Evidence
}
