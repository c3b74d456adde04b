/// Deterministic seeded random generator (SplitMix64). Every random path of FlowEngine takes one
/// of these (or a seed to build one), so runs are reproducible bit for bit.
///
/// State update: `s += 0x9E3779B97F4A7C15`, output = mix(s). Period 2^64.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform Double in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// Uniform Double in (0, 1): never exactly 0, safe for logarithms.
    public mutating func nextOpenUniform() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal N(0, 1) by the Box-Muller transform (one of the pair is used).
    public mutating func nextGaussian() -> Double {
        let u1 = nextOpenUniform()
        let u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// Standard logistic: log(u) - log(1-u), u ~ U(0, 1).
    public mutating func nextLogistic() -> Double {
        let u = nextOpenUniform()
        return Foundation.log(u) - Foundation.log1p(-u)
    }

    /// Fills `buffer` with Float32 values from U(lower, upper).
    public mutating func fillUniform(_ buffer: inout [Float], lower: Float, upper: Float) {
        let width = Double(upper) - Double(lower)
        for i in buffer.indices { buffer[i] = Float(Double(lower) + width * nextUniform()) }
    }
}

import Foundation
