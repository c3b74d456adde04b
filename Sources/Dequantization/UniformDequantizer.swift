import DiscreteAudio

/// Uniform dequantization: y = scale · (x + offset + u), u ~ U[0, 1) from a counter-based generator.
///
/// Sample i of a stream (interleaved index: frame · channels + channel), b = x + offset:
/// - Float64 output: u_i = `CounterRNG.uniform(i)` (53 bits), y = RN((b + u) · scale) in Double
///   (`place`);
/// - Float32 output: u_i = `CounterRNG.uniform24(i)` · 2⁻²⁴ (24 bits, two samples per draw),
///   s = RN(b + u) in float32 arithmetic, y = s · scale, exact as scale is a power of two
///   (`placeFloatFast`, stated readably by `placeFloat`); no Double is involved.
/// Rounding can land on the top of the bin, which would decode to x + 1: only those values are
/// moved to the largest representable value below the top (the *top guard*). Every other value
/// keeps its correctly rounded position, so the noise is uniform up to the output's float grid.
/// Guaranteed: `range.bin(of: y, binCount: K) == x` for every written y, in both ranges and for
/// Float and Double outputs (K ≤ 2^16 for Float: 24-bit codes need Double).
public struct UniformDequantizer: Sendable {
    public let binCount: Int
    public let range: DequantRange
    public let rng: CounterRNG
    /// Threads a streamed block is sliced over (`Dequantizer.dequantize`); the values do not
    /// depend on it.
    public var threads = 1

    public init(binCount: Int, range: DequantRange, key: NoiseKey) {
        precondition(binCount > 1 && binCount & (binCount - 1) == 0, "K must be a power of two")
        self.binCount = binCount
        self.range = range
        self.rng = CounterRNG(key: key)
    }

    /// Dequantizes `bins` (sample indices firstIndex, firstIndex + 1, …) into Float32 values.
    /// Precondition: K ≤ 65536 (Float32 cannot carry noise inside 24-bit bins).
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Float>) {
        fill(bins: bins, firstIndex: firstIndex, into: out)
    }

    /// Dequantizes `bins` into Float64 values.
    public func dequantize(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Double>) {
        fill(bins: bins, firstIndex: firstIndex, into: out)
    }

    /// Places one within-bin position u ∈ [0, 1] (u = 1 allowed: guarded) into bin x, with the
    /// top guard. Shared by the uniform and variational paths.
    @inlinable @inline(__always)
    public static func place<T: BinaryFloatingPoint>(bin x: Int, u: Double, offset: Int, scale: Double,
                                                     as: T.Type) -> T {
        let base = Double(x &+ offset)
        let y = T((base + u) * scale)
        let top = T((base + 1) * scale)
        if _slowPath(y >= top) { return top.nextDown }
        return y
    }

    /// Both `dequantize`s (and `DequantizedValue.dequantize`), for a concrete T at every call.
    /// Precondition for Float: K ≤ 65536.
    @inline(__always)
    func fill<T: BinaryFloatingPoint>(bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                                      into out: UnsafeMutableBufferPointer<T>) {
        precondition(out.count >= bins.count)
        precondition(T.self != Float.self || binCount <= 65536, "Float32 output needs K <= 65536")
        let scale = range.scale(binCount: binCount)
        let offset = range.offset(binCount: binCount)
        let rng = self.rng
        let first = UInt64(firstIndex)
        guard let src = bins.baseAddress, let dst = out.baseAddress else { return }
        if T.self == Float.self {
            // Two samples per 64-bit draw: sample i takes the top 24 bits of the low (even i) or
            // high (odd i) half of bits(i >> 1). 2^24 positions per bin is at least float32's own
            // grid in every bin not touching zero, and the arithmetic stays in packed float32.
            let d = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            let off = Int32(offset)
            let fscale = Float(scale)
            let n = bins.count
            var i = 0
            if n > 0 && first & 1 == 1 {
                d[0] = UniformDequantizer.placeFloatFast(bin: Int32(bitPattern: src[0]), u24: rng.uniform24(first), offset: off, scale: fscale)
                i = 1
            }
            // Blocks of 2048 samples: draw into a small buffer, then place; each loop vectorizes.
            // The wyrand state of draw c is key + (c + 1)·increment: stepped by one addition.
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 2048) { u in
                let ub = u.baseAddress!
                while i + 1 < n {
                    let m = min(2048, (n - i) & ~1)
                    let c0 = (first &+ UInt64(i)) &>> 1
                    var state = rng.key &+ (c0 &+ 1) &* CounterRNG.increment
                    for j in 0..<(m / 2) {
                        let h = CounterRNG.output(state: state)
                        state &+= CounterRNG.increment
                        ub[2 * j] = UInt32(truncatingIfNeeded: h) &>> 8
                        ub[2 * j + 1] = UInt32(truncatingIfNeeded: h &>> 40)
                    }
                    let s = src + i, o = d + i
                    for j in 0..<m {
                        o[j] = UniformDequantizer.placeFloatFast(bin: Int32(bitPattern: s[j]), u24: ub[j], offset: off, scale: fscale)
                    }
                    i += m
                }
            }
            if i < n {
                d[i] = UniformDequantizer.placeFloatFast(bin: Int32(bitPattern: src[i]), u24: rng.uniform24(first &+ UInt64(i)), offset: off, scale: fscale)
            }
        } else {
            for i in 0..<bins.count {
                let u = rng.uniform(first &+ UInt64(i))
                dst[i] = UniformDequantizer.place(bin: Int(src[i]), u: u, offset: offset, scale: scale, as: T.self)
            }
        }
    }

    /// `placeFloat` in branch-free bit arithmetic, the form every float32 output uses (it
    /// vectorizes): when s rounded onto top = b + 1, the largest float below top is top's bit
    /// pattern − 1 for top > 0 and + 1 for top < 0 (top = 0 needs no guard: b = −1 gives
    /// s ≤ −2⁻²⁴ exactly). Same bits as `placeFloat`, tested over every 8- and 16-bit code.
    @inlinable @inline(__always)
    public static func placeFloatFast(bin x: Int32, u24: UInt32, offset: Int32, scale: Float) -> Float {
        let base = Float(x &+ offset)
        let top = base + 1
        let s = base + Float(Int32(bitPattern: u24)) * 0x1p-24
        let hit: Int32 = s == top ? -1 : 0
        // +1 for negative top, −1 for positive: −((bits >> 31) | 1)
        let step = 0 &- ((Int32(bitPattern: top.bitPattern) &>> 31) | 1)
        let g = Float(bitPattern: UInt32(bitPattern: Int32(bitPattern: s.bitPattern) &+ (hit & step)))
        return g * scale
    }

    /// The readable statement of the float32 placement that `placeFloatFast` implements (the
    /// tests check one against the other). `place` for Float32 output with a 24-bit position u24 (u = u24 · 2⁻²⁴), all in float32:
    /// s = RN(b + u) with b = x + offset (|b| ≤ 2¹⁶, exact), one rounding; s is moved below
    /// b + 1 when it rounded onto it; y = s · scale is exact (scale is a power of two).
    @inlinable @inline(__always)
    public static func placeFloat(bin x: Int32, u24: UInt32, offset: Int32, scale: Float) -> Float {
        let base = Float(x &+ offset)
        let top = base + 1
        var s = base + Float(Int32(bitPattern: u24)) * 0x1p-24
        if s >= top { s = top.nextDown }
        return s * scale
    }
}

/// Streaming: blocks of `preferredFrames` frames (no context: each value depends on its own code
/// and index only), each sliced over `threads` threads. The commands stream through
/// `CellDequantizer`, whose container cells give these bytes; this conformance is the reference
/// the tests and `dqbench` hold it to.
extension UniformDequantizer: PointwiseDequantizer {
    public func dequantize<Value: DequantizedValue>(_ block: DequantizationBlock, codes: UnsafeBufferPointer<UInt32>,
                                                    into values: UnsafeMutableBufferPointer<Value>,
                                                    logQ: UnsafeMutableBufferPointer<Float>?) throws {
        let first = block.firstIndex
        forSlices(block.sampleCount, threads: threads) { lo, hi in
            Value.dequantize(self, bins: UnsafeBufferPointer(rebasing: codes[lo..<hi]), firstIndex: first + lo,
                             into: UnsafeMutableBufferPointer(rebasing: values[lo..<hi]))
        }
    }
}
