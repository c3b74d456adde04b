/// Counter-based test noise: splitmix64 of (seed, index). Same (seed, index) → same value, so a
/// generator "restart" is just reusing indices.
struct TestRandom {
    var seed: UInt64
    var counter: UInt64 = 0

    init(seed: UInt64) { self.seed = seed }

    static func splitmix64(_ z0: UInt64) -> UInt64 {
        var z = z0 &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits, for (seed, index).
    static func uniform(seed: UInt64, index: UInt64) -> Double {
        let z = splitmix64(splitmix64(seed) ^ index &* 0xD1B5_4A32_D192_ED03)
        return Double(z >> 11) * 0x1p-53
    }

    mutating func nextDouble() -> Double {
        defer { counter += 1 }
        return TestRandom.uniform(seed: seed, index: counter)
    }
}
