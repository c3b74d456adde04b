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
/// **G.711.** A table per cell (built once, 257 entries: `FloatCell`, `DoubleCell`), in the
/// output range's units. The inner loop is the bin → cell lookup (`CellLookup`; in the law's own
/// bytes the cell is the bin, so no lookup at all), one multiply-add and the guard as a minimum.
/// Float32: y = Float(lower' + Double(u24)·w'·2⁻²⁴) — the product and the sum are exact in
/// Double (the numerator (lower + S/2 + offset)·2²⁴ + u24·w is an integer below 2⁴⁹, times a
/// power of two), so the conversion is the one rounding: the nearest float32 stated above.
/// Float64: RN(lower' + RN(u·w')), the noise drawn in the same loop.
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
    /// G.711 in the law's own bytes: the cell of bin b is b (every byte is a code), so the loop
    /// indexes the cell tables by the bin, without `CellLookup.cellOfKey`.
    let cellIsBin: Bool
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
        cellIsBin = lookup.usesTable && lookup.shift == 0 && lookup.cellOfKey.count == quantizer.encoding.binCount
            && lookup.cellOfKey.indices.allSatisfy { Int(lookup.cellOfKey[$0]) == $0 }
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
        if lookup.usesTable {
            precondition(float32CarriesNoise, "Float32 output needs cells at least S/65536 wide")
            return runG711(bins, firstIndex, out, cells: cellsF) { src, n, dst, first, cells, keyed, cellOf in
                CellDequantizer.placeFloat(src, n, dst, first: first, rng: rng, cells: cells, keyed: keyed, cellOf: cellOf)
            }
        }
        return runFloat(bins, firstIndex, out, draw: rng.fillUniform24)
    }

    /// Dequantizes `bins` into Float64 values; result as for Float32 (any quantizer, 24-bit too).
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Double>) -> Int? {
        if lookup.usesTable {
            return runG711(bins, firstIndex, out, cells: cellsD) { src, n, dst, first, cells, keyed, cellOf in
                CellDequantizer.placeDouble(src, n, dst, first: first, rng: rng, cells: cells, keyed: keyed, cellOf: cellOf)
            }
        }
        return runDouble(bins, firstIndex, out, draw: rng.fillUniform)
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
    /// (the uniform placement of the coarse code). G.711: the cell's `CellPlacement` at U (given
    /// positions; drawn noise goes through `runG711`, the same placement with the draws fused).
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

    /// The G.711 loop behind both outputs: `loop`(src, n, dst, first index, cell table, keyed, cell
    /// of a bin) places every sample and returns the OR of the bins and (when keyed) of the cells; the
    /// cell of a bin is the bin itself in the law's bytes (`cellIsBin`: bin & (K − 1), a bin ≥ K
    /// being caught by the mask) and `cellOfKey` of its key otherwise (`offCell` = 256 sets bit 8
    /// of the OR). Off-quantizer codes found that way are finished by `markOffQuantizer`.
    @inline(__always)
    private func runG711<C: CellPlacement>(
        _ bins: UnsafeBufferPointer<UInt32>, _ firstIndex: Int, _ out: UnsafeMutableBufferPointer<C.Value>, cells: [C],
        loop: (UnsafePointer<UInt32>, Int, UnsafeMutablePointer<C.Value>, UInt64, UnsafePointer<C>, Bool, (UInt32) -> Int) -> (UInt32, Int)
    ) -> Int? {
        precondition(out.count >= bins.count)
        guard let src = bins.baseAddress, let dst = out.baseAddress else { return nil }
        let n = bins.count, first = UInt64(firstIndex)
        let sh = UInt32(lookup.shift), binMask = UInt32(quantizer.encoding.binCount - 1)
        let (binBits, cellBits) = lookup.cellOfKey.withUnsafeBufferPointer { keys in
            cells.withUnsafeBufferPointer { cells in
                let c = cells.baseAddress!, k = keys.baseAddress!
                return cellIsBin ? loop(src, n, dst, first, c, false) { Int($0 & binMask) }
                                 : loop(src, n, dst, first, c, true) { Int(k[Int(($0 & binMask) &>> sh)]) }
            }
        }
        let bad = binBits & lookup.checkMask != 0 || cellBits & CellLookup.offCell != 0
        return bad ? markOffQuantizer(src, n, dst, firstIndex) : nil
    }

    /// Float32 G.711 placement with the draws in the same loop, two samples per 64-bit draw as
    /// `CounterRNG.fillUniform24` (the state stepped by one addition; an odd first index and an
    /// odd last sample take `uniform24` alone). Returns the OR of the bins and of the cells.
    @inline(__always)
    static func placeFloat(_ src: UnsafePointer<UInt32>, _ n: Int, _ dst: UnsafeMutablePointer<Float>, first: UInt64,
                           rng: CounterRNG, cells c: UnsafePointer<FloatCell>, keyed: Bool, cellOf: (UInt32) -> Int) -> (UInt32, Int) {
        var bins: UInt32 = 0, cellBits = 0
        @inline(__always) func one(_ i: Int, _ u24: UInt32) {
            let x = src[i], cell = cellOf(x)
            bins |= x
            if keyed { cellBits |= cell }
            dst[i] = c[cell].place(u24)
        }
        var i = 0
        if n > 0 && first & 1 == 1 {
            one(0, rng.uniform24(first))
            i = 1
        }
        var state = rng.key &+ (((first &+ UInt64(i)) &>> 1) &+ 1) &* CounterRNG.increment
        while i &+ 1 < n {
            let h = CounterRNG.output(state: state)
            state &+= CounterRNG.increment
            one(i, UInt32(truncatingIfNeeded: h) &>> 8)
            one(i &+ 1, UInt32(truncatingIfNeeded: h &>> 40))
            i &+= 2
        }
        if i < n { one(i, rng.uniform24(first &+ UInt64(i))) }
        return (bins, cellBits)
    }

    /// Float64 G.711 placement with each sample's draw (`CounterRNG.uniform`'s 53 bits, the state
    /// stepped by one addition as in `fillUniform`) in the same loop (`DoubleCell.place(bits:)`).
    /// Returns the OR of the bins and of the cells.
    @inline(__always)
    static func placeDouble(_ src: UnsafePointer<UInt32>, _ n: Int, _ dst: UnsafeMutablePointer<Double>, first: UInt64,
                            rng: CounterRNG, cells c: UnsafePointer<DoubleCell>, keyed: Bool, cellOf: (UInt32) -> Int) -> (UInt32, Int) {
        var bins: UInt32 = 0, cellBits = 0
        var state = rng.key &+ (first &+ 1) &* CounterRNG.increment
        for i in 0..<n {
            let x = src[i], cell = cellOf(x)
            bins |= x
            if keyed { cellBits |= cell }
            let k = CounterRNG.output(state: state) &>> 11
            state &+= CounterRNG.increment
            dst[i] = c[cell].place(bits: k)
        }
        return (bins, cellBits)
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

/// A cell for float32 output, with u = u24·2⁻²⁴: y = Float(lower' + Double(u24)·w'·2⁻²⁴) with
/// lower' = base·scale (base = lower + S/2 + offset) and w' = w·scale. Both Double operations are
/// exact: u24·w < 2³⁵ and base·2²⁴ + u24·w is an integer of magnitude below 2⁴⁹, scaled by a power
/// of two. So the conversion to float32 is the only rounding, and y is the float32 nearest to the
/// exact image of lower + u·w (as the float32 arithmetic of the lattice path gives for
/// power-of-two widths). Guard: y ≤ upper' always (monotone rounding, upper' exact), so
/// min(y, upper'.nextDown) keeps y below the image of upper and changes nothing else.
struct FloatCell: CellPlacement {
    /// lower' = base·scale.
    let lower: Double
    /// w'·2⁻²⁴ = w·scale·2⁻²⁴.
    let width24: Double
    /// upper' = (base + w)·scale, exact in float32.
    let upper: Float
    /// upper'.nextDown.
    let below: Float

    init(base: Int, width: Int, scale: Double) {
        lower = Double(base) * scale
        width24 = Double(width) * scale * 0x1p-24
        upper = Float(Double(base + width) * scale)
        below = upper.nextDown
    }

    private init(nan: Void) { lower = .nan; width24 = .nan; upper = .nan; below = .nan }
    static let off = FloatCell(nan: ())

    /// u24 ∈ [0, 2²⁴] (2²⁴, i.e. u = 1, is guarded too).
    @inline(__always)
    func place(_ u24: UInt32) -> Float {
        let y = Float(lower + Double(Int32(bitPattern: u24)) * width24)
        return y < below ? y : below
    }
}

/// A cell for float64 output: y = RN(lower' + RN(u·w')) with lower' = base·scale and
/// w' = w·scale (exact), guarded below upper' = (base + w)·scale: for u ∈ [0, 1], y ≤ upper'
/// (monotone rounding), so the guard is min(y, upper'.nextDown).
struct DoubleCell: CellPlacement {
    let lower: Double
    let width: Double
    /// w'·2⁻⁵³, for `place(bits:)`.
    let width53: Double
    let below: Double
    /// upper' (below.nextUp).
    var upper: Double { below.nextUp }

    init(base: Int, width: Int, scale: Double) {
        lower = Double(base) * scale
        self.width = Double(width) * scale
        width53 = self.width * 0x1p-53
        below = (Double(base + width) * scale).nextDown
    }

    private init(nan: Void) { lower = .nan; width = .nan; width53 = .nan; below = .nan }
    static let off = DoubleCell(nan: ())

    /// u ∈ [0, 1] (u = 1 is guarded too).
    @inline(__always)
    func place(_ u: Double) -> Double {
        let y = lower + u * width
        return y < below ? y : below
    }

    /// `place`(k·2⁻⁵³) for the 53-bit integer k of `CounterRNG.uniform`, bit for bit: k·(w'·2⁻⁵³)
    /// and (k·2⁻⁵³)·w' are the same real number (both scalings by 2⁻⁵³ are exact; nothing here
    /// comes near the subnormals), rounded once, so one multiply less per sample.
    @inline(__always)
    func place(bits k: UInt64) -> Double {
        let y = lower + Double(Int64(bitPattern: k)) * width53
        return y < below ? y : below
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
