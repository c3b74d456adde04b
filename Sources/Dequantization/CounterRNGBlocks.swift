/// Bulk draws of `CounterRNG`: runs of consecutive counters written into a buffer, with the wyrand
/// state stepped by one addition per draw instead of one multiply (state of draw c is
/// key + (c + 1)·increment). Same values as the per-index functions, for any start and length.
extension CounterRNG {
    /// out[j] = `uniform24`(first + j) for j < out.count: 24-bit positions, two per 64-bit draw
    /// (even index: low half of bits(i >> 1), odd index: high half).
    @inlinable
    public func fillUniform24(first: UInt64, into out: UnsafeMutableBufferPointer<UInt32>) {
        guard let o = out.baseAddress else { return }
        let n = out.count
        var j = 0
        if n > 0 && first & 1 == 1 {
            o[0] = uniform24(first)
            j = 1
        }
        var state = key &+ (((first &+ UInt64(j)) &>> 1) &+ 1) &* CounterRNG.increment
        let pairs = (n - j) / 2, p = o + j
        for k in 0..<pairs {
            let h = CounterRNG.output(state: state)
            state &+= CounterRNG.increment
            p[2 &* k] = UInt32(truncatingIfNeeded: h) &>> 8
            p[2 &* k &+ 1] = UInt32(truncatingIfNeeded: h &>> 40)
        }
        j += 2 * pairs
        if j < n { o[j] = uniform24(first &+ UInt64(j)) }
    }

    /// out[j] = `uniform`(first + j) for j < out.count: u ∈ [0, 1) with 53 bits, one draw each.
    @inlinable
    public func fillUniform(first: UInt64, into out: UnsafeMutableBufferPointer<Double>) {
        guard let o = out.baseAddress else { return }
        var state = key &+ (first &+ 1) &* CounterRNG.increment
        for j in 0..<out.count {
            o[j] = Double(Int64(bitPattern: CounterRNG.output(state: state) &>> 11)) * 0x1p-53
            state &+= CounterRNG.increment
        }
    }
}
