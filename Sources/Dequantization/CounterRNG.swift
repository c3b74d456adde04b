/// A counter-based random generator: the i-th draw is a pure function of (key, i).
///
/// Draw i is wyrand (Wang Yi's generator from wyhash) at counter position i + 1:
///
///     s = key &+ (i &+ 1) &* 0xA0761D6478BD642F
///     r = s · (s ^ 0xE7037ED1A0B428DB)            (full 128-bit product)
///     bits(i) = high64(r) ^ low64(r)
///
/// i.e. exactly the (i+1)-th output of a wyrand stream whose state starts at `key`. One 64×64→128
/// multiply per draw (wyrand passes BigCrush and PractRand); the 128-bit product also keeps the
/// loop on the scalar multiplier, which on baseline x86-64 beats emulated vector 64-bit multiplies.
/// Because no state is carried between draws, output is identical for any chunking, thread count
/// or sharding. The key is derived from (seed, stream) by `NoiseKey` with SplitMix64's finaliser.
public struct CounterRNG: Sendable, Equatable {
    public static let increment: UInt64 = 0xA076_1D64_78BD_642F
    public static let xorConstant: UInt64 = 0xE703_7ED1_A0B4_28DB
    public let key: UInt64

    public init(key: NoiseKey) { self.key = key.value }

    /// A generator with the given raw 64-bit key (wyrand state), for known-answer tests.
    public init(rawKey: UInt64) { self.key = rawKey }

    /// SplitMix64's finaliser (a bijection on UInt64), used to derive keys.
    @inlinable @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    /// 64 random bits for counter i.
    @inlinable @inline(__always)
    public func bits(_ i: UInt64) -> UInt64 {
        CounterRNG.output(state: key &+ (i &+ 1) &* CounterRNG.increment)
    }

    /// wyrand's output function of a state s: high64 ^ low64 of s · (s ^ xorConstant). Bulk loops
    /// step s by `increment` instead of multiplying per draw.
    @inlinable @inline(__always)
    public static func output(state s: UInt64) -> UInt64 {
        let r = s.multipliedFullWidth(by: s ^ CounterRNG.xorConstant)
        return r.high ^ r.low
    }

    /// A 24-bit position, two per draw: the top 24 bits of the low 32 bits of bits(i >> 1) for
    /// even i, of the high 32 bits for odd i. u = u24 · 2⁻²⁴. Used for float32 outputs.
    @inlinable @inline(__always)
    public func uniform24(_ i: UInt64) -> UInt32 {
        let h = bits(i &>> 1)
        return i & 1 == 0 ? UInt32(truncatingIfNeeded: h) &>> 8 : UInt32(truncatingIfNeeded: h &>> 40)
    }

    /// u ∈ [0, 1) with 53 random bits: (bits(i) >> 11) · 2⁻⁵³.
    @inlinable @inline(__always)
    public func uniform(_ i: UInt64) -> Double {
        Double(Int64(bitPattern: bits(i) &>> 11)) * 0x1p-53
    }
}

/// The key of a noise stream: a seed plus a stream identifier (e.g. the file's path relative to
/// the corpus root, hashed with FNV-1a 64).
///
/// value = mix(seed ^ mix(stream ^ 0x6A09E667F3BCC909)) with `CounterRNG.mix`, so seeds and streams
/// that differ in one bit give unrelated keys.
public struct NoiseKey: Sendable, Equatable, Hashable {
    public var seed: UInt64
    public var stream: UInt64

    public init(seed: UInt64, stream: UInt64 = 0) {
        self.seed = seed
        self.stream = stream
    }

    /// A key whose stream is FNV-1a 64 of `name`'s UTF-8 bytes.
    public init(seed: UInt64, name: String) {
        self.init(seed: seed, stream: NoiseKey.fnv1a64(name))
    }

    public var value: UInt64 {
        CounterRNG.mix(seed ^ CounterRNG.mix(stream ^ 0x6A09_E667_F3BC_C909))
    }

    /// FNV-1a, 64-bit: h = 0xcbf29ce484222325; for each byte h = (h ^ b) · 0x100000001b3.
    public static func fnv1a64(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}
