/// Every figure measured on one channel, the checks derived from them, and the verdict.
///
/// Units: positions and noise in bins (one quantization step = 1); frequencies in Hz; densities in
/// bin²/Hz (one-sided); levels in dB are 10·log10 of a power ratio. The noise is n = w − ½ where w
/// is the within-bin position (`DequantRange.position`), so uniform noise has σ² = 1/12 bin² and
/// the one-sided white floor 2σ²/fs = 1/(6·fs) bin²/Hz.
public struct ChannelReport: Codable, Sendable {
    /// Samples analysed.
    public var samples: Int
    public var noiseKind: NoiseKind
    /// Family-wise α of the channel and the Bonferroni share α/m of each of the m statistical
    /// checks that apply (containment is deterministic and takes no share).
    public var familyAlpha: Double
    public var perCheckAlpha: Double
    /// Welch segments K and the effective count K_eff = K / (1 + 2ρ²(K−1)/K), ρ = Σw_t w_{t+hop}/Σw²
    /// (1/6 for periodic Hann at 50 % overlap, so K_eff ≈ K/1.056): the variance of a Welch bin is
    /// P²/K_eff, i.e. it behaves like P·χ²(2K_eff)/(2K_eff).
    public var segments: Int
    public var effectiveSegments: Double
    public var containment: Containment
    public var withinBin: WithinBin
    public var noisePSD: NoiseSpectrum
    /// Welch PSD of the codes x (bin indices), bin²/Hz.
    public var signalPSD: Spectrum
    /// Welch PSD of the dequantized values in bin units, y/scale − offset = x + w, bin²/Hz.
    public var dequantizedPSD: Spectrum
    public var coherence: Coherence
    public var autocorrelation: Autocorrelation
    public var blockSpur: BlockSpur
    public var checks: [CheckResult]
    /// True when every check that applies and ran passed (skipped checks do not count).
    public var passed: Bool
    /// Human-readable remarks (e.g. which checks do not apply and why).
    public var notes: [String]

    /// Check `containment`: every value must decode to its own code. value = leakage + nonFinite +
    /// outOfRange, limit 0.
    public struct Containment: Codable, Sendable {
        /// Finite, in-range values whose decoded bin differs from the code.
        public var binLeakage: Int
        /// NaN or ±infinity.
        public var nonFinite: Int
        /// Finite values outside [lower, 1) of the range.
        public var outOfRange: Int
    }

    /// Within-bin distribution of w over the samples that decode to their code.
    public struct WithinBin: Codable, Sendable {
        public var count: Int
        /// Sample mean of w (expected ½) and population variance (expected 1/12, bin²).
        public var mean: Double
        public var variance: Double
        public var expectedMean: Double
        public var expectedVariance: Double
        /// Check `uniformity`: grid-aware KS distance (see `WithinBinAccumulator`) ≤ ksCritical,
        /// the KS critical value at the per-check α (λ_α/(√n + 0.12 + 0.11/√n)).
        public var ksDistance: Double
        /// Plain KS distance against U(0,1) on the same points, ignoring the storage grid.
        public var ksPlainDistance: Double
        public var ksCritical: Double
        /// Share of w in [0, 1/64) ∪ [63/64, 1); expected p₀ = 2/64 on fine grids (computed from the
        /// storage grids otherwise). Check `edge-mass`: binomial z = (share − p₀)/√(p₀(1−p₀)/N);
        /// uniform noise: |z| ≤ z_{1−α/2}; learned noise: z ≤ z_{1−α} (no more edge mass than uniform).
        public var edgeShare: Double
        public var expectedEdgeShare: Double
        /// Distinct storage grid steps h (bin units) and their sample counts.
        public var gridSteps: [GridStep]
        /// Counts of w in the 64 cells [j/64, (j+1)/64).
        public var histogram: [Int]
    }

    public struct GridStep: Codable, Sendable {
        public var step: Double
        public var count: Int
    }

    /// Welch PSD of the noise n and the figures derived from it. Bins 0, 1 (lowered by the
    /// per-segment mean removal) and Nyquist (a real bin, half the degrees of freedom) are
    /// excluded from flatness, spur and coherence statistics but kept in the arrays.
    public struct NoiseSpectrum: Codable, Sendable {
        public var frequencyHz: [Double]
        /// One-sided density, bin²/Hz.
        public var density: [Double]
        /// 10·log10(density / floorDensity), dB (clamped at −300 dB for empty bins).
        public var decibelsRelativeToFloor: [Double]
        /// Theoretical white floor of uniform noise, 2σ²/fs with σ² = 1/12: bin²/Hz.
        public var floorDensity: Double
        /// Mean density over the tested bins relative to the floor (1 for uniform noise).
        public var meanRelativeToFloor: Double
        /// Spectral flatness exp(mean ln P)/mean P over the tested bins (1 = perfectly flat) and
        /// its expectation exp(ψ(K_eff) − ln K_eff) for white noise. Check `flatness`: flatness ≥
        /// exp(E − z_{1−α}·sd), sd² = 2·(ψ′(K_eff) − 1/K_eff)/M (delta method on
        /// ln Z − (Z − 1) per bin; factor 2 covers the Hann window's adjacent-bin correlation), M
        /// tested bins.
        public var flatness: Double
        public var expectedFlatness: Double
        public var flatnessLimit: Double
        /// Check `tonal-spur`: max over tested bins of P_k / median(P) ≤ spurLimit, where
        /// spurLimit = [χ²_{2K_eff} upper quantile at α/(2M)] / (2K_eff) divided by a lower bound
        /// of the median (its expectation minus z_{1−α/2}·√(π/2 · 2/(K_eff M))).
        public var worstSpurRatio: Double
        public var worstSpurHz: Double
        public var spurLimit: Double
        /// Frequencies of all tested bins above spurLimit (at most 64), Hz.
        public var spurFrequenciesHz: [Double]
    }

    public struct Spectrum: Codable, Sendable {
        public var frequencyHz: [Double]
        /// One-sided density, bin²/Hz.
        public var density: [Double]
    }

    /// Magnitude-squared coherence |P_nx|²/(P_nn·P_xx) between the noise n and the codes x.
    /// Check `coherence`: for independent series each tested bin is ≈ Beta(1, K_eff − 1), so
    /// max ≤ 1 − (α/(2M))^{1/(K_eff−1)} and mean ≤ 1/K_eff + z_{1−α/2}·√2·sd_bin/√M with
    /// sd_bin² = (K_eff − 1)/(K_eff²(K_eff + 1)) (α split between the two; √2 covers adjacent-bin
    /// correlation).
    public struct Coherence: Codable, Sendable {
        public var frequencyHz: [Double]
        public var msc: [Double]
        public var mean: Double
        public var max: Double
        public var maxHz: Double
        /// 1/K_eff: the expected mean for independent series.
        public var independenceLevel: Double
        public var meanLimit: Double
        public var maxLimit: Double
    }

    /// Sample autocorrelation r_k of n at lags 1 … L. Check `whiteness`: Ljung–Box
    /// Q = N(N+2)Σ r_k²/(N−k) ≤ χ²(L) upper quantile at the per-check α. `limit` is the pointwise
    /// ±z_{1−α/(2L)}/√N band drawn in the plot.
    public struct Autocorrelation: Codable, Sendable {
        public var lags: [Int]
        public var r: [Double]
        public var limit: Double
        public var ljungBoxQ: Double
        public var ljungBoxLimit: Double
    }

    /// Block-edge structure (see `BlockFoldAccumulator`). Check `block-spur`: every candidate B
    /// must stay within its χ² limit at α/(number of candidates): a configured B (needs N ≥ 2B) on
    /// all harmonics of fs/B, S_B ≤ χ²(B−1); the scan B = 256 … 65536 (N ≥ 4B) on the odd
    /// harmonics new at each B, S_B^odd ≤ χ²(B/2).
    public struct BlockSpur: Codable, Sendable {
        public var candidates: [BlockCandidate]
        /// The configured B, or the failing candidate with the largest Wilson–Hilferty z (nil if
        /// none failed and none was configured).
        public var blockLength: Int?
        public var configured: Bool
    }

    public struct BlockCandidate: Codable, Sendable {
        public var blockLength: Int
        /// Harmonic spacing fs/B, Hz.
        public var spacingHz: Double
        /// S/df: energy at the tested multiples of fs/B relative to white noise (≈ 1 when clean);
        /// df = B−1 (configured B, all harmonics) or B/2 (scan, odd harmonics).
        public var relativeEnergy: Double
        /// Limit for relativeEnergy: χ²(df) upper quantile / df.
        public var limit: Double
        /// Wilson–Hilferty normal score of S_B.
        public var z: Double
        public var passed: Bool
    }

    /// The check named `name`, if present.
    public func check(_ name: String) -> CheckResult? {
        checks.first { $0.name == name }
    }
}
