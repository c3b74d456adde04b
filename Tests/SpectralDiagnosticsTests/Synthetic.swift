import Foundation
import DiscreteAudio
@testable import SpectralDiagnostics

/// Synthetic 16-bit material and dequantizations for the tests.
enum Synthetic {
    static let sampleRate = 16_000.0
    static let binCount = 65_536

    /// 16-bit codes (bin indices): a 440 Hz sine at about −9 dBFS plus a little broadband noise
    /// (a sum of two uniforms, ±600 LSB), clamped to 0…65535.
    static func codes(count: Int, seed: UInt64 = 99, amplitude: Double = 12_000) -> [UInt32] {
        (0..<count).map { t in
            let s = amplitude * sin(2 * Double.pi * 440 * Double(t) / sampleRate)
            let r = TestRandom.uniform(seed: seed, index: UInt64(2 * t)) + TestRandom.uniform(seed: seed, index: UInt64(2 * t + 1)) - 1
            return UInt32(min(65_535, max(0, (32_768 + s + 600 * r).rounded(.down))))
        }
    }

    /// Unit-range dequantization y = (x + u)/K in Double with u = `noise(t)` ∈ [0, 1).
    static func dequantize(_ codes: [UInt32], range: DequantRange = .unit, noise: (Int) -> Double) -> [Double] {
        let k = binCount
        let scale = range.scale(binCount: k), offset = Double(range.offset(binCount: k))
        return codes.indices.map { t in scale * (Double(codes[t]) + offset + noise(t)) }
    }

    /// Clean uniform noise for a seed.
    static func uniformNoise(seed: UInt64) -> (Int) -> Double {
        { t in TestRandom.uniform(seed: seed, index: UInt64(t)) }
    }

    static func analyze(codes: [UInt32], values: [Double], config: DiagnosticsConfig = .init(),
                        range: DequantRange = .unit, precision: ValuePrecision = .float64,
                        pieces: Int = 3, binCount: Int = Synthetic.binCount) throws -> ChannelReport {
        let analyzer = try ChannelAnalyzer(config: config, sampleRate: sampleRate, binCount: binCount,
                                           range: range, precision: precision)
        // feed in uneven pieces
        var start = 0
        for p in 0..<pieces {
            let end = p == pieces - 1 ? codes.count : min(codes.count, start + codes.count / pieces + 17 * p)
            analyzer.add(codes: Array(codes[start..<end]), values: Array(values[start..<end]))
            start = end
        }
        return try analyzer.finish()
    }
}

extension Synthetic {
    /// Stores values as float32 the way a correct writer does: round to nearest, and a value that
    /// rounds out of its bin (onto the bin top) is replaced by the largest float below the top.
    static func storeAsFloat32(_ values: [Double], codes: [UInt32], range: DequantRange, binCount k: Int = Synthetic.binCount) -> [Double] {
        return values.indices.map { i in
            var f = Float(values[i])
            if range.bin(of: Double(f), binCount: k) != Int(codes[i]) {
                let scale = range.scale(binCount: k), offset = Double(range.offset(binCount: k))
                f = Float(scale * (Double(codes[i]) + 1 + offset)).nextDown
            }
            return Double(f)
        }
    }
}
