/// A counter-based random generator: the i-th draw is a pure function of (key, i).
///
/// Draw i is SplitMix64's output function applied to the counter key + (i + 1)·γ,
/// γ = 0x9E3779B97F4A7C15 (the golden-ratio increment), i.e. exactly the i-th output of a SplitMix64
/// stream whose state starts at `key`:
///
///     z = key &+ (i &+ 1) &* γ
///     z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
///     z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
///     bits(i) = z ^ (z >> 31)
///
/// Because no state is carried between draws, output is identical for any chunking, thread count
/// or sharding. The key is derived from (seed, stream) by `NoiseKey`.
public struct CounterRNG: Sendable, Equatable {
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15
    public let key: UInt64

    public init(key: NoiseKey) { self.key = key.value }

    /// A generator with the given raw 64-bit key (SplitMix64 state), for known-answer tests.
    public init(rawKey: UInt64) { self.key = rawKey }

    /// SplitMix64's finaliser (a bijection on UInt64).
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
        CounterRNG.mix(key &+ (i &+ 1) &* CounterRNG.gamma)
    }

    /// u ∈ [0, 1) with 32 random bits, two per draw: the low 32 bits of bits(i >> 1) for even i,
    /// the high 32 bits for odd i; u = half · 2⁻³². Used for float32 outputs.
    @inlinable @inline(__always)
    public func uniform32(_ i: UInt64) -> Double {
        let h = bits(i &>> 1)
        let half = i & 1 == 0 ? UInt32(truncatingIfNeeded: h) : UInt32(truncatingIfNeeded: h &>> 32)
        return Double(half) * 0x1p-32
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
