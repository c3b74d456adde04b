/// Decoding through a quantizer's cells: dequantized values y back to the stored codes, for
/// `restore`.
///
/// For y in `range` with S = `quantizer.scaleSize`:
///
///     x    = ⌊y·S⌋ (unit) or ⌊y·S/2⌋ + S/2 (symmetric)      the range's rule, exact (S a power of two)
///     cell = the cell holding the integer point x − S/2        (`Quantizer.cell(ofPoint:)`)
///     bin  = `Quantizer.bin(ofCell:)`                          the stored code, bit for bit
///
/// The cell bounds are integers on the scale, so the cell of y is the cell of ⌊t⌋ and decoding is
/// exact at every boundary: lower_j's image and the largest value of the type below upper_j's
/// image both decode to cell j. Bulk form: a lattice 2^k (k = 0: `container`) takes
/// bin = x with its low k bits cleared; G.711 reads `binOfKey[x >> s]` (s = log2 m, 0 in the
/// law's bytes and in 16-bit, 8 in 24-bit: every cell bound is a multiple of m).
///
/// A value that is not finite or lies outside the range [lower, 1) has no code: `decode` stops
/// there and returns its index (values before it are decoded).
public struct CellDecoder: Sendable {
    public let quantizer: Quantizer
    public let range: DequantRange
    /// s: G.711 looks up x >> s.
    @usableFromInline let shift: Int
    /// Lattice/container: ¬(2^k − 1), the mask that maps x to the code of its cell.
    @usableFromInline let latticeMask: UInt32
    /// G.711 only (empty otherwise): the stored bin of each key x >> s (65536 entries).
    @usableFromInline let binOfKey: [UInt32]

    public init(quantizer: Quantizer, range: DequantRange) {
        self.quantizer = quantizer
        self.range = range
        let s = quantizer.scaleSize
        switch quantizer.kind {
        case .container, .lattice:
            let k = quantizer.latticeStep.trailingZeroBitCount
            shift = 0
            latticeMask = ~UInt32((1 << k) - 1)
            binOfKey = []
        case .g711Linear:
            let sh = quantizer.g711Multiplier.trailingZeroBitCount
            shift = sh
            latticeMask = 0
            binOfKey = (0..<(s >> sh)).map { key in
                UInt32(quantizer.bin(ofCell: quantizer.cell(ofPoint: (key << sh) - s / 2)))
            }
        }
    }

    /// The stored bin of one value, or nil when y is not finite or outside the range.
    @inlinable
    public func bin(of y: Double) -> UInt32? {
        guard let x = range.bin(of: y, binCount: quantizer.scaleSize) else { return nil }
        return code(ofPoint: x)
    }

    /// The stored bin of the bin coordinate x (0 ≤ x < S) on the quantizer's scale.
    @usableFromInline @inline(__always)
    func code(ofPoint x: Int) -> UInt32 {
        binOfKey.isEmpty ? UInt32(x) & latticeMask : binOfKey[x >> shift]
    }

    /// Decodes `values` (sample indices firstIndex, firstIndex + 1, …) into stored bins. Returns
    /// nil when every value decoded, else the index (firstIndex + offset) of the first value that
    /// is not finite or outside the range; `bins` holds the codes of the values before it.
    /// Precondition: bins.count ≥ values.count.
    public func decode(_ values: UnsafeBufferPointer<Double>, firstIndex: Int,
                       into bins: UnsafeMutableBufferPointer<UInt32>) -> Int? {
        run(values, firstIndex, bins)
    }

    /// Float32 values: each is exactly a Double, decoded as above.
    public func decode(_ values: UnsafeBufferPointer<Float>, firstIndex: Int,
                       into bins: UnsafeMutableBufferPointer<UInt32>) -> Int? {
        run(values, firstIndex, bins)
    }

    @inline(__always)
    private func run<T: BinaryFloatingPoint>(_ values: UnsafeBufferPointer<T>, _ firstIndex: Int,
                                             _ bins: UnsafeMutableBufferPointer<UInt32>) -> Int? {
        precondition(bins.count >= values.count)
        for i in values.indices {
            guard let b = bin(of: Double(values[i])) else { return firstIndex + i }
            bins[i] = b
        }
        return nil
    }
}
