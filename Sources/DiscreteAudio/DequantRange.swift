/// The continuous range dequantized samples live in, and the exact decode rule back to bins.
///
/// With x the bin index (0 ≤ x < K) and u ∈ [0, 1) the within-bin position:
/// - `unit`:      y = (x + u) / K            ∈ [0, 1);   decode x = ⌊y·K⌋
/// - `symmetric`: y = 2(x + u)/K − 1 = (x − K/2 + u)/(K/2) ∈ [−1, 1);   decode x = ⌊y·K/2⌋ + K/2
///
/// K is a power of two, so y·K and y·K/2 are exact in binary floating point and the decode rule
/// has no rounding of its own. Every value audiodq writes satisfies the decode rule exactly
/// (the *output contract*); `y` never reaches the top of its range.
public enum DequantRange: String, Sendable, CaseIterable, Codable {
    case unit
    case symmetric

    /// Lower end of the range (inclusive).
    public var lowerBound: Double { self == .unit ? 0 : -1 }
    /// Upper end of the range (exclusive).
    public var upperBound: Double { 1 }

    /// y = scale · (x + offset + u): the affine map from bin coordinates to the range.
    /// `unit`: scale 1/K, offset 0. `symmetric`: scale 2/K, offset −K/2.
    @inlinable public func scale(binCount k: Int) -> Double {
        self == .unit ? 1.0 / Double(k) : 2.0 / Double(k)
    }

    @inlinable public func offset(binCount k: Int) -> Int {
        self == .unit ? 0 : -(k / 2)
    }

    /// The decode rule: bin of a continuous value, or nil when y is not finite or outside the
    /// range (y < lower, y ≥ 1).
    @inlinable
    public func bin(of y: Double, binCount k: Int) -> Int? {
        guard y.isFinite, y >= lowerBound, y < upperBound else { return nil }
        switch self {
        case .unit:
            return Int((y * Double(k)).rounded(.down))
        case .symmetric:
            return Int((y * Double(k / 2)).rounded(.down)) + k / 2
        }
    }

    /// Within-bin position w = y·K − x (unit) or y·K/2 − (x − K/2) (symmetric); in [0, 1) for a
    /// value that decodes to x. Exact in Double for K ≤ 2^24.
    @inlinable
    public func position(of y: Double, bin x: Int, binCount k: Int) -> Double {
        switch self {
        case .unit: return y * Double(k) - Double(x)
        case .symmetric: return y * Double(k / 2) - Double(x - k / 2)
        }
    }

    /// The decode formula as text, for sidecars.
    public var decodeFormula: String {
        self == .unit ? "x = floor(y * K)" : "x = floor(y * K / 2) + K / 2"
    }

    /// The encode formula as text, for sidecars.
    public var encodeFormula: String {
        self == .unit ? "y = (x + u) / K" : "y = 2 * (x + u) / K - 1"
    }
}
