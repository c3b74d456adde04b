import DiscreteAudio

/// Uniform dequantization into the quantizer's true cells: each stored code is replaced by a
/// uniform point of its cell, y = image in `range` of t = lower_j + u·(upper_j − lower_j), with
/// j = the code's cell and [lower_j, upper_j) on the quantizer's scale of size S
/// (`Quantizer`; y = (t + S/2)/S for `unit`, t/(S/2) for `symmetric`).
///
/// **Noise.** The same counter-based stream as `UniformDequantizer` (sample index i = interleaved
/// index frame · channels + channel, key from `NoiseKey`), with the same u variants:
/// - Float32 output, u variant "float32-24bit" (`Sidecar.uVariantFloat32`):
///   u_i = `CounterRNG.uniform24`(i) · 2⁻²⁴ (24 bits, two samples per draw), y = the float32
///   nearest to the exact image of lower_j + u_i·w_j (ties to even). Lattice and container cells
///   compute it in float32 (`UniformDequantizer.placeFloatFast` on the coarse code, below);
///   G.711 cells in float64, rounded once to float32. Both are that nearest float: lower_j + u·w_j
///   needs at most 24 + 24 significant bits, exact in float64 and, for a power-of-two w_j, the
///   float32 sum's only rounding.
/// - Float64 output, u variant "float64-53bit" (`Sidecar.uVariantFloat64`):
///   u_i = `CounterRNG.uniform`(i) (53 bits), y = RN(RN(lower_j' + RN(u_i·w_j'))) in float64 with
///   lower_j', w_j' the images of lower_j and w_j (exact: the map's scale is a power of two). For a
///   power-of-two w_j the product is exact and y is the correctly rounded point; only μ-law's two
///   clipped end cells (w = 1156·m) round the product first.
///
/// **Top guard.** When rounding reaches the image of upper_j, the largest value of the output type
/// below it is written instead, so every written y decodes to cell j
/// (`Quantizer.cell(ofY:range:) == j`) and hence to the stored code, bit for bit
/// (`Quantizer.bin(ofCell:)`). The values equal `Quantizer.y(ofCell:u:range:as:)` with the u above,
/// bit for bit.
///
/// **Container and lattice.** A lattice of step 2^k (k = 0: `container`) is the uniform
/// dequantizer applied to the coarse code x' = bin >> k with K' = K/2^k bins:
/// RN(lower + u·2^k)·scale = RN(x' + offset/2^k + u)·(scale·2^k), exactly, since multiplying by a
/// power of two commutes with rounding. So `container` output is bit-identical to
/// `UniformDequantizer` (Float and Double, tested on every 8- and 16-bit code), and an 8-bit
/// recording in a 16-bit container gets the values the 8-bit file would.
///
/// **G.711.** A table per cell (built once, 257 entries): lower_j', w_j', the image of upper_j
/// (Double and Float). The inner loop is the bin → cell lookup (`CellLookup`), one multiply-add
/// and the guard.
///
/// **Codes the quantizer cannot produce** (off the lattice, not a G.711 level at the container's
/// scale, a bin ≥ K) have no cell. They are never written into some other cell: their values are
/// NaN (which no decode rule accepts) and `dequantize` returns the interleaved index of the first
/// one; nil means every code was on the quantizer. The check is fused into the loop (an OR per
/// sample). Callers dequantize with a quantizer that detection proved for every code of the file,
/// so a non-nil result is an internal inconsistency to report, with the index; `CellLookup`'s
/// `firstOffQuantizer` is the same check as a separate pass.
///
/// Output depends only on (key, quantizer, range, codes, sample index): any chunking or threading
/// gives the same values.
public struct CellDequantizer: Sendable {
    public let quantizer: Quantizer
    public let range: DequantRange
    public let rng: CounterRNG
    public let lookup: CellLookup
    /// Lattice/container: the coarse code's offset (range offset / 2^k) and scale (range scale · 2^k).
    let coarseOffset: Int
    let coarseScale: Double
    /// G.711 only, indexed by cell (the extra last entry, for `lookup.offCell`, is NaN):
    /// image of lower_j, image of w_j, image of upper_j in Double and in Float.
    let lowerY: [Double]
    let widthY: [Double]
    let upperY: [Double]
    let upperF: [Float]
    /// `lookup.float32CarriesNoise`, computed once.
    public let float32CarriesNoise: Bool

    public init(quantizer: Quantizer, range: DequantRange, key: NoiseKey) {
        self.quantizer = quantizer
        self.range = range
        self.rng = CounterRNG(key: key)
        let lookup = CellLookup(quantizer)
        self.lookup = lookup
        float32CarriesNoise = lookup.float32CarriesNoise
        let s = quantizer.scaleSize
        let scale = range.scale(binCount: s), offset = range.offset(binCount: s)
        coarseOffset = offset >> lookup.shift
        coarseScale = scale * Double(1 << lookup.shift)
        if lookup.usesTable {
            let image = { (t: Int) in Double(t + s / 2 + offset) * scale }
            let cells = (0..<quantizer.cellCount).map { quantizer.cell($0) }
            lowerY = cells.map { image($0.lower) } + [.nan]
            widthY = cells.map { Double($0.upper - $0.lower) * scale } + [.nan]
            upperY = cells.map { image($0.upper) } + [.nan]
            upperF = upperY.map { Float($0) }
        } else {
            lowerY = []; widthY = []; upperY = []; upperF = []
        }
    }

    /// Dequantizes `bins` (sample indices firstIndex, firstIndex + 1, …) into Float32 values.
    /// Returns nil, or the index (firstIndex + offset) of the first code off the quantizer (whose
    /// values are NaN). Precondition: `float32CarriesNoise`, out.count ≥ bins.count.
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Float>) -> Int? {
        precondition(float32CarriesNoise, "Float32 output needs cells at least S/65536 wide")
        let off = Int32(coarseOffset), scale = Float(coarseScale)
        return run(bins, firstIndex, out, upper: upperF, draw: rng.fillUniform24, position: { Double($0) * 0x1p-24 }) {
            UniformDequantizer.placeFloatFast(bin: Int32(bitPattern: $0), u24: $1, offset: off, scale: scale)
        }
    }

    /// Dequantizes `bins` into Float64 values; result as for Float32 (any quantizer, 24-bit too).
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Double>) -> Int? {
        let off = coarseOffset, scale = coarseScale
        return run(bins, firstIndex, out, upper: upperY, draw: rng.fillUniform, position: { $0 }) {
            UniformDequantizer.place(bin: Int($0), u: $1, offset: off, scale: scale, as: Double.self)
        }
    }

    /// The loop behind both outputs, in blocks of 2048 samples: `draw` the block's noise U
    /// (24-bit integers or Doubles), then place each code. Lattice/container: `coarse`(bin >> k, u)
    /// (the uniform placement of the coarse code). G.711: the cell's images from the tables and
    /// `place` with u = `position`(U). Off-quantizer flags are ORed in the loop; when any is set,
    /// `markOffQuantizer` finishes.
    @inline(__always)
    private func run<T: BinaryFloatingPoint, U>(_ bins: UnsafeBufferPointer<UInt32>, _ firstIndex: Int,
                                                _ out: UnsafeMutableBufferPointer<T>, upper: [T],
                                                draw: (UInt64, UnsafeMutableBufferPointer<U>) -> Void,
                                                position: (U) -> Double, coarse: (UInt32, U) -> T) -> Int? {
        precondition(out.count >= bins.count)
        guard let src = bins.baseAddress, let dst = out.baseAddress else { return nil }
        let n = bins.count, first = UInt64(firstIndex)
        let mask = lookup.checkMask, sh = UInt32(lookup.shift)
        var bad: UInt32 = 0
        withUnsafeTemporaryAllocation(of: U.self, capacity: 2048) { buffer in
            let ub = buffer.baseAddress!
            var i = 0
            while i < n {
                let m = min(2048, n - i)
                draw(first &+ UInt64(i), UnsafeMutableBufferPointer(start: ub, count: m))
                let s = src + i, o = dst + i
                if lookup.usesTable {
                    bad |= upper.withUnsafeBufferPointer { placeTable(s, m, o, upper: $0.baseAddress!) { position(ub[$0]) } }
                } else {
                    var b: UInt32 = 0
                    for j in 0..<m {
                        let x = s[j]
                        b |= x & mask
                        o[j] = coarse(x >> sh, ub[j])
                    }
                    bad |= b
                }
                i += m
            }
        }
        return bad == 0 ? nil : markOffQuantizer(src, n, dst, firstIndex)
    }

    /// One placement into a cell given by its images: y = RN_T(lower' + u·w') computed in Double,
    /// and the largest T below `upper` (the image of upper_j in T) when that rounding reached it.
    /// u ∈ [0, 1] (u = 1 is guarded too). NaN images (the off-quantizer entry) give NaN.
    @inlinable @inline(__always)
    public static func place<T: BinaryFloatingPoint>(lower: Double, width: Double, upper: T, u: Double) -> T {
        let y = T(lower + u * width)
        return y >= upper ? upper.nextDown : y
    }

    /// The G.711 loop over m samples: cell c of each bin from the lookup, then `place` with c's
    /// images and u(j). Returns the OR of the off-quantizer flags (nonzero when some code has no
    /// cell; its y is NaN from the tables).
    @inline(__always)
    private func placeTable<T: BinaryFloatingPoint>(_ s: UnsafePointer<UInt32>, _ m: Int, _ o: UnsafeMutablePointer<T>,
                                                    upper: UnsafePointer<T>, u: (Int) -> Double) -> UInt32 {
        let mask = lookup.checkMask, sh = UInt32(lookup.shift), binMask = UInt32(quantizer.encoding.binCount - 1)
        let off = lookup.offCell
        var bad: UInt32 = 0
        lookup.cellOfKey.withUnsafeBufferPointer { table in
            lowerY.withUnsafeBufferPointer { lo in
                widthY.withUnsafeBufferPointer { w in
                    let t = table.baseAddress!, l = lo.baseAddress!, wd = w.baseAddress!
                    for j in 0..<m {
                        let x = s[j]
                        let c = Int(t[Int((x & binMask) >> sh)])
                        bad |= (x & mask) | (c == off ? 1 : 0)
                        o[j] = CellDequantizer.place(lower: l[c], width: wd[c], upper: upper[c], u: u(j))
                    }
                }
            }
        }
        return bad
    }

    /// Slow path after a block held a code off the quantizer: NaN for each such code; the index
    /// of the first one.
    private func markOffQuantizer<T: BinaryFloatingPoint>(_ src: UnsafePointer<UInt32>, _ n: Int,
                                                          _ dst: UnsafeMutablePointer<T>, _ firstIndex: Int) -> Int? {
        var firstBad: Int?
        for i in 0..<n where lookup.cell(ofBin: src[i]) == nil {
            dst[i] = .nan
            if firstBad == nil { firstBad = firstIndex + i }
        }
        return firstBad
    }
}
