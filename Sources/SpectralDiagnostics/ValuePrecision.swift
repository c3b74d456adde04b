/// The floating-point type the dequantized values were stored in.
///
/// It fixes the storage grid: inside bin x the representable values are spaced by ulp(y), which in
/// bin units is h = ulp(y)·K (unit range) or ulp(y)·K/2 (symmetric). For 16-bit codes in `float32`,
/// h = 2⁻⁸ (unit) or 2⁻⁹ (symmetric) for loud samples; in `float64`, h ≤ 2⁻³⁷ and is negligible.
public enum ValuePrecision: String, Codable, Sendable, CaseIterable {
    case float32
    case float64

    /// Spacing of the storage grid, in bin units, inside the bin whose midpoint value is
    /// `midpoint` and whose width in value units is `binWidth`: ulp(midpoint) / binWidth.
    /// Bin edges are binade boundaries (K is a power of two), so the spacing is constant inside
    /// every bin except the one or two next to 0, whose grid is finer still (≤ 2⁻²⁴ for 16-bit)
    /// and is treated as that of its midpoint.
    @inlinable
    public func gridStep(midpoint: Double, binWidth: Double) -> Double {
        switch self {
        case .float32: return Double(Float(midpoint).ulp) / binWidth
        case .float64: return midpoint.ulp / binWidth
        }
    }
}
