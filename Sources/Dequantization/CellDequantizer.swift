import DiscreteAudio
import Synchronization

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
///   compute it in float32 (`UniformDequantizer.placeFloatFast` on the coarse code, below), where
///   u·w_j is exact and the sum is the only rounding; G.711 cells in exact integer arithmetic,
///   rounded once by the conversion to float32 (`FloatCell`).
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
/// **G.711.** A table per cell (built once, 257 entries: `FloatCell`, `DoubleCell`). The inner
/// loop is the bin → cell lookup (`CellLookup`), the placement and the guard as a select. Float32:
/// N = (lower + S/2 + offset)·2²⁴ + u24·w exactly in Int64, y = Float(N)·scale·2⁻²⁴ (one
/// rounding: the nearest float32 stated above); Float64: lower' + u·w'.
///
/// **Codes the quantizer cannot produce** (off the lattice, not a G.711 level at the container's
/// scale, a bin ≥ K) have no cell. They are never written into some other cell: their values are
/// NaN (which no decode rule accepts) and `dequantize` returns the interleaved index of the first
/// one; nil means every code was on the quantizer. The check is fused into the loop (an OR per
/// sample). Callers dequantize with a quantizer that detection proved for every code of the file,
/// so a non-nil result is an internal inconsistency to report, with the index; `CellLookup`'s
/// `firstOffQuantizer` is the same check as a separate pass.
///
/// **Given positions** (`place`): the same loops with u taken from the caller (q's u of
/// `VariationalDequantizer`) instead of the generator: Double(u) for float64, the 24-bit u24 =
/// min(RN(u·2²⁴), 2²⁴ − 1) for float32 (`u24`), so learned noise in true cells has the same mapping, guard and
/// containment as uniform noise.
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
    /// G.711 only (empty otherwise), indexed by cell: 257 entries, those from `cellCount` on
    /// (`CellLookup.offCell` = 256 among them) place NaN.
    let cellsF: [FloatCell]
    let cellsD: [DoubleCell]
    /// `lookup.float32CarriesNoise`, computed once.
    public let float32CarriesNoise: Bool
    /// Threads a streamed block is sliced over (`Dequantizer.dequantize`); the values do not
    /// depend on it.
    public var threads = 1

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
            let cells = (0..<quantizer.cellCount).map { quantizer.cell($0) }
            let base = { (t: Int) in t + s / 2 + offset }
            let pad = CellLookup.offCell + 1 - cells.count
            cellsF = cells.map { FloatCell(base: base($0.lower), width: $0.upper - $0.lower, scale: scale) } + Array(repeating: .off, count: pad)
            cellsD = cells.map { DoubleCell(base: base($0.lower), width: $0.upper - $0.lower, scale: scale) } + Array(repeating: .off, count: pad)
        } else {
            cellsF = []; cellsD = []
        }
    }

    /// Dequantizes `bins` (sample indices firstIndex, firstIndex + 1, …) into Float32 values.
    /// Returns nil, or the index (firstIndex + offset) of the first code off the quantizer (whose
    /// values are NaN). Precondition: `float32CarriesNoise`, out.count ≥ bins.count.
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Float>) -> Int? {
        runFloat(bins, firstIndex, out, draw: rng.fillUniform24)
    }

    /// Dequantizes `bins` into Float64 values; result as for Float32 (any quantizer, 24-bit too).
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Double>) -> Int? {
        runDouble(bins, firstIndex, out, draw: rng.fillUniform)
    }

    /// Places given within-cell positions instead of drawing them (learned noise:
    /// `VariationalDequantizer` in non-container cells): out[i] = the value of bins[i]'s cell at
    /// position u[i] ∈ [0, 1], by the float32 rule above with u24 = `u24(u[i])`, the 24-bit
    /// position nearest to u[i] (at most 1 − 2⁻²⁴). Same cells, guard and off-quantizer check as `dequantize`; the
    /// result is nil or the offset in `bins` of the first code off the quantizer.
    /// Precondition: `float32CarriesNoise`.
    public func place(bins: UnsafeBufferPointer<UInt32>, u: UnsafePointer<Float>,
                      into out: UnsafeMutableBufferPointer<Float>) -> Int? {
        runFloat(bins, 0, out) { i, b in for j in b.indices { b[j] = Self.u24(u[Int(i) + j]) } }
    }

    /// `place` into Float64 values, by the float64 rule above with u = Double(u[i]) (exact).
    public func place(bins: UnsafeBufferPointer<UInt32>, u: UnsafePointer<Float>,
                      into out: UnsafeMutableBufferPointer<Double>) -> Int? {
        runDouble(bins, 0, out) { i, b in for j in b.indices { b[j] = Double(u[Int(i) + j]) } }
    }

    /// A position u ∈ [0, 1] as the float32 path's 24-bit position, one the generator can draw:
    /// min(RN(u·2²⁴), 2²⁴ − 1) (ties to even); 0 for u < 0 and NaN. (2²⁴ itself is kept out:
    /// `UniformDequantizer.placeFloatFast` has no guard for a cell whose top is 0.)
    @inline(__always)
    public static func u24(_ u: Float) -> UInt32 {
        let s = (min(u, 1) * 0x1p24).rounded(.toNearestOrEven)
        return s >= 0 ? min(UInt32(s), 0xFF_FFFF) : 0
    }

    /// The float32 loop: lattice/container by `UniformDequantizer.placeFloatFast` on the coarse
    /// code, G.711 by `FloatCell`, with noise from `draw`.
    @inline(__always)
    private func runFloat(_ bins: UnsafeBufferPointer<UInt32>, _ firstIndex: Int, _ out: UnsafeMutableBufferPointer<Float>,
                          draw: (UInt64, UnsafeMutableBufferPointer<UInt32>) -> Void) -> Int? {
        precondition(float32CarriesNoise, "Float32 output needs cells at least S/65536 wide")
        let off = Int32(coarseOffset), scale = Float(coarseScale)
        return run(bins, firstIndex, out, cells: cellsF, draw: draw) {
            UniformDequantizer.placeFloatFast(bin: Int32(bitPattern: $0), u24: $1, offset: off, scale: scale)
        }
    }

    /// The float64 loop: lattice/container by `UniformDequantizer.place` on the coarse code,
    /// G.711 by `DoubleCell`, with noise from `draw`.
    @inline(__always)
    private func runDouble(_ bins: UnsafeBufferPointer<UInt32>, _ firstIndex: Int, _ out: UnsafeMutableBufferPointer<Double>,
                           draw: (UInt64, UnsafeMutableBufferPointer<Double>) -> Void) -> Int? {
        let off = coarseOffset, scale = coarseScale
        return run(bins, firstIndex, out, cells: cellsD, draw: draw) {
            UniformDequantizer.place(bin: Int($0), u: $1, offset: off, scale: scale, as: Double.self)
        }
    }

    /// The loop behind both outputs, in blocks of 2048 samples: `draw` the block's noise U
    /// (24-bit integers or Doubles), then place each code. Lattice/container: `coarse`(bin >> k, u)
    /// (the uniform placement of the coarse code). G.711: the cell's `CellPlacement` at U.
    /// Off-quantizer flags are ORed in the loop; when any is set, `markOffQuantizer` finishes.
    @inline(__always)
    private func run<T: BinaryFloatingPoint, U, C: CellPlacement>(
        _ bins: UnsafeBufferPointer<UInt32>, _ firstIndex: Int, _ out: UnsafeMutableBufferPointer<T>, cells: [C],
        draw: (UInt64, UnsafeMutableBufferPointer<U>) -> Void, coarse: (UInt32, U) -> T
    ) -> Int? where C.Noise == U, C.Value == T {
        precondition(out.count >= bins.count)
        guard let src = bins.baseAddress, let dst = out.baseAddress else { return nil }
        let n = bins.count, first = UInt64(firstIndex)
        let mask = lookup.checkMask, sh = UInt32(lookup.shift), binMask = UInt32(quantizer.encoding.binCount - 1)
        let offCell = CellLookup.offCell, table = lookup.usesTable
        var bad = 0
        lookup.cellOfKey.withUnsafeBufferPointer { keys in
            cells.withUnsafeBufferPointer { cells in
                withUnsafeTemporaryAllocation(of: U.self, capacity: 2048) { buffer in
                    let ub = buffer.baseAddress!
                    var i = 0
                    while i < n {
                        let m = min(2048, n - i)
                        draw(first &+ UInt64(i), UnsafeMutableBufferPointer(start: ub, count: m))
                        let s = src + i, o = dst + i
                        // OR of the bins (a bit of checkMask set: a code off the lattice or
                        // above the container) and of the G.711 cells (bit 8: offCell = 256).
                        var bins: UInt32 = 0, cellBits = 0
                        if table {
                            let k = keys.baseAddress!, c = cells.baseAddress!
                            for j in 0..<m {
                                let x = s[j]
                                let cell = Int(k[Int((x & binMask) &>> sh)])
                                bins |= x
                                cellBits |= cell
                                o[j] = c[cell].place(ub[j])
                            }
                        } else {
                            for j in 0..<m {
                                let x = s[j]
                                bins |= x
                                o[j] = coarse(x &>> sh, ub[j])
                            }
                        }
                        if bins & mask != 0 || cellBits & offCell != 0 { bad = 1 }
                        i += m
                    }
                }
            }
        }
        return bad == 0 ? nil : markOffQuantizer(src, n, dst, firstIndex)
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

/// A cell of the table path of `CellDequantizer`: places noise U into the cell, in the output
/// type, with the top guard. The entry for codes without a cell (`off`) places NaN.
protocol CellPlacement: Sendable {
    associatedtype Noise
    associatedtype Value: BinaryFloatingPoint
    func place(_ u: Noise) -> Value
}

/// A cell for float32 output, with u = u24·2⁻²⁴: N = base·2²⁴ + u24·w exactly in Int64
/// (base = lower + S/2 + offset, |N| < 2⁴⁹), y = Float(N)·(scale·2⁻²⁴). The conversion is the
/// only rounding (the product by a power of two is exact), so y is the float32 nearest to the exact
/// image of lower + u·w, as the float32 arithmetic of the lattice path gives for power-of-two
/// widths. Guard: y below the image of upper, else the largest float32 below it.
struct FloatCell: CellPlacement {
    let base24: Int64
    let width: Int64
    let factor: Float
    let upper: Float
    let below: Float

    init(base: Int, width: Int, scale: Double) {
        base24 = Int64(base) << 24
        self.width = Int64(width)
        factor = Float(scale * 0x1p-24)
        upper = Float(Double(base + width) * scale)
        below = upper.nextDown
    }

    private init(nan: Void) { base24 = 0; width = 0; factor = 0; upper = .nan; below = .nan }
    static let off = FloatCell(nan: ())

    /// u24 ∈ [0, 2²⁴] (2²⁴, i.e. u = 1, is guarded too).
    @inline(__always)
    func place(_ u24: UInt32) -> Float {
        let y = Float(base24 &+ Int64(u24) &* width) * factor
        return y < upper ? y : below
    }
}

/// A cell for float64 output: y = RN(lower' + RN(u·w')) with lower' = base·scale and
/// w' = w·scale (exact), guarded below upper' = (base + w)·scale.
struct DoubleCell: CellPlacement {
    let lower: Double
    let width: Double
    let upper: Double
    let below: Double

    init(base: Int, width: Int, scale: Double) {
        lower = Double(base) * scale
        self.width = Double(width) * scale
        upper = Double(base + width) * scale
        below = upper.nextDown
    }

    private init(nan: Void) { lower = .nan; width = .nan; upper = .nan; below = .nan }
    static let off = DoubleCell(nan: ())

    /// u ∈ [0, 1] (u = 1 is guarded too).
    @inline(__always)
    func place(_ u: Double) -> Double {
        let y = lower + u * width
        return y < upper ? y : below
    }
}

/// Streaming: blocks of `preferredFrames` frames (no context), each sliced over `threads`
/// threads, as `UniformDequantizer`. A code off the quantizer stops the stream with
/// `DequantizationError.codeOffQuantizer` naming the first one (lowest index) of the block.
extension CellDequantizer: PointwiseDequantizer {
    public func dequantize<Value: DequantizedValue>(_ block: DequantizationBlock, codes: UnsafeBufferPointer<UInt32>,
                                                    into values: UnsafeMutableBufferPointer<Value>,
                                                    logQ: UnsafeMutableBufferPointer<Float>?) throws {
        let first = block.firstIndex
        let firstOff = Mutex<Int?>(nil)
        forSlices(block.sampleCount, threads: threads) { lo, hi in
            if let bad = Value.dequantize(self, bins: UnsafeBufferPointer(rebasing: codes[lo..<hi]), firstIndex: first + lo,
                                          into: UnsafeMutableBufferPointer(rebasing: values[lo..<hi])) {
                firstOff.withLock { $0 = min($0 ?? bad, bad) }
            }
        }
        if let bad = firstOff.withLock({ $0 }) {
            throw DequantizationError.codeOffQuantizer(quantizer: quantizer.description, index: bad,
                                                       bin: Int(codes[bad - first]))
        }
    }
}
