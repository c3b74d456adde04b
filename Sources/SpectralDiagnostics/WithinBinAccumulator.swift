import Foundation

/// Streaming summary of the within-bin positions w ∈ [0, 1) of the samples that decode to their
/// own code, and the grid-aware Kolmogorov–Smirnov comparison with uniform noise.
///
/// ## Why a grid-aware KS test
/// A value stored as float32 can only take the representable floats inside its bin: with grid step
/// h (bin units, see `ValuePrecision.gridStep`), correct dequantization "u ~ U(0, 1), y = value of
/// x + u, rounded to the nearest float, a value that would round onto the bin top moved to the
/// largest float below it" gives the discrete law
///
///     P(w = 0) = h/2,  P(w = j·h) = h (0 < j < G−1),  P(w = (G−1)·h) = 3h/2,   G = 1/h,
///
/// whose CDF is F_h(t) = P(w ≤ t) = (⌊t/h⌋ + ½)·h for ⌊t/h⌋ < G−1, and 1 above. 16-bit codes in
/// float32 have h = 2⁻⁸ (unit range, loud samples): F_h exceeds t by h/2 = 0.002 at the grid
/// points, more than the plain KS critical value 0.0016 at n = 10⁶, so a plain KS test rejects
/// correct noise on long files. Here the expected CDF is the mixture Σ_g n_g·F_{h_g}(t)/N over the
/// few distinct grid steps h_g (powers of two, counted by exponent), and the empirical CDF is read
/// from a streaming histogram at the P = 1024 points t_i = i/P. A sample lands in cell
/// i = ⌈w·P⌉ (w·P is exact), so a w exactly on t_i counts as ≤ t_i on both sides. Steps finer than
/// 2⁻⁶³ (and all float64 data, h ≤ 2⁻³⁷ for 16-bit) are treated as continuous (F(t) = t).
///
/// Testing only at the points t_i, and under a discrete null, makes the statistic stochastically
/// smaller than the continuous KS statistic, so the usual critical value keeps its level
/// (conservative) while the resolution 1/1024 bin is far below any defect the other checks miss.
struct WithinBinAccumulator {
    /// Number of CDF evaluation points above 0 (t_i = i/P).
    static let points = 1024
    /// Histogram cells for the report (64 equal cells of width 1/64 bin).
    static let histogramCells = 64
    /// Grid-step exponents e (h = 2^e) tracked: −63 … 0; finer grids go to −63 (continuous).
    static let minExponent = -63

    private(set) var count = 0
    private(set) var sum = 0.0
    private(set) var sumSquares = 0.0
    private(set) var edgeCount = 0
    private(set) var histogram = [Int](repeating: 0, count: WithinBinAccumulator.histogramCells)
    private var cdfCells = [Int](repeating: 0, count: WithinBinAccumulator.points + 1)
    private var stepCounts = [Int](repeating: 0, count: 64)

    /// Adds one position w ∈ [0, 1) whose storage grid step is h = 2^`stepExponent` bin units.
    @inline(__always)
    mutating func add(_ w: Double, stepExponent: Int) {
        count += 1
        sum += w
        sumSquares += w * w
        if w < 1.0 / 64 || w >= 63.0 / 64 { edgeCount += 1 }
        histogram[min(Self.histogramCells - 1, Int(w * Double(Self.histogramCells)))] += 1
        cdfCells[min(Self.points, Int((w * Double(Self.points)).rounded(.up)))] += 1
        stepCounts[max(0, min(63, stepExponent - Self.minExponent))] += 1
    }

    /// Distinct grid steps and how many samples had each (for the report).
    var gridSteps: [(step: Double, count: Int)] {
        stepCounts.indices.compactMap { i in
            stepCounts[i] > 0 ? (exp2(Double(i + Self.minExponent)), stepCounts[i]) : nil
        }
    }

    /// F_h(t) = P(w ≤ t) (inclusive) or P(w < t) (strict) for the rounded-and-guarded grid of step
    /// h = 2^e; continuous U(0,1) when e ≤ −63.
    static func gridCDF(_ t: Double, exponent e: Int, strict: Bool) -> Double {
        if t <= 0 { return strict ? 0 : (e <= minExponent ? 0 : exp2(Double(e)) / 2) }
        if t >= 1 { return 1 }
        if e <= minExponent { return t }
        let h = exp2(Double(e))
        let g = 1 / h
        // j = largest grid index with j·h ≤ t (inclusive) or j·h < t (strict)
        let j = strict ? (t / h).rounded(.up) - 1 : (t / h).rounded(.down)
        if j >= g - 1 { return 1 }
        return (j + 0.5) * h
    }

    /// Mixture CDF of all samples seen: Σ_g n_g F_g(t) / N.
    func expectedCDF(_ t: Double, strict: Bool) -> Double {
        guard count > 0 else { return 0 }
        var total = 0.0
        for i in stepCounts.indices where stepCounts[i] > 0 {
            total += Double(stepCounts[i]) * Self.gridCDF(t, exponent: i + Self.minExponent, strict: strict)
        }
        return total / Double(count)
    }

    /// Expected share of w in [0, 1/64) ∪ [63/64, 1) under correct uniform noise on these grids
    /// (exactly 2/64 when every step is ≤ 1/64).
    var expectedEdgeShare: Double {
        expectedCDF(1.0 / 64, strict: true) + 1 - expectedCDF(63.0 / 64, strict: true)
    }

    /// Grid-aware KS distance max_i |F̂(t_i) − Σ_g n_g F_g(t_i)/N| and the plain one against
    /// F(t) = t on the same points.
    func ksDistances() -> (gridAware: Double, plain: Double) {
        guard count > 0 else { return (0, 0) }
        var cumulative = 0
        var dGrid = 0.0, dPlain = 0.0
        for i in 0..<Self.points {
            cumulative += cdfCells[i]
            let t = Double(i) / Double(Self.points)
            let empirical = Double(cumulative) / Double(count)
            dGrid = max(dGrid, abs(empirical - expectedCDF(t, strict: false)))
            dPlain = max(dPlain, abs(empirical - t))
        }
        return (dGrid, dPlain)
    }
}
