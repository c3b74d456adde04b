import Testing
import DiscreteAudio
@testable import Dequantization

@Suite struct CounterRNGTests {
    /// wyrand with state 0 (key 0): the first outputs of the reference algorithm (computed with
    /// arbitrary-precision integers), and SplitMix64's finaliser on its published first input.
    @Test func matchesKnownAnswers() {
        let rng = CounterRNG(rawKey: 0)
        #expect(rng.bits(0) == 0x111C_B3A7_8F59_A58E)
        #expect(rng.bits(1) == 0xCEAB_D938_FF4E_856D)
        #expect(rng.bits(2) == 0x61FB_5131_8F47_D2A4)
        #expect(CounterRNG.mix(0x9E37_79B9_7F4A_7C15) == 0xE220_A839_7B1D_CDAF)
    }

    @Test func uniformMomentsAndRange() {
        let rng = CounterRNG(key: NoiseKey(seed: 7))
        var sum = 0.0, sum2 = 0.0
        let n = 200_000
        for i in 0..<n {
            let u = rng.uniform(UInt64(i))
            #expect(u >= 0 && u < 1)
            sum += u; sum2 += u * u
        }
        let mean = sum / Double(n), variance = sum2 / Double(n) - mean * mean
        #expect(abs(mean - 0.5) < 5 * (1.0 / 12.0 / Double(n)).squareRoot())
        #expect(abs(variance - 1.0 / 12.0) < 0.002)
    }

    @Test func keysSeparateSeedsAndStreams() {
        let a = NoiseKey(seed: 0, name: "a/b.wav"), b = NoiseKey(seed: 0, name: "a/c.wav"), c = NoiseKey(seed: 1, name: "a/b.wav")
        #expect(a.value != b.value && a.value != c.value && b.value != c.value)
        #expect(NoiseKey.fnv1a64("") == 0xCBF2_9CE4_8422_2325)
        #expect(NoiseKey.fnv1a64("a") == 0xAF63_DC4C_8601_EC8C)
    }
}

@Suite struct OutputContractTests {
    /// Every 16-bit code with u at (and beyond) the top of its bin decodes back to the code, in
    /// both ranges, in Float32 and Float64.
    @Test(arguments: DequantRange.allCases)
    func everySixteenBitCodeHoldsAtTheTop(_ range: DequantRange) {
        let k = 65536
        let scale = range.scale(binCount: k), offset = range.offset(binCount: k)
        let tops = [1.0, 1.0 - 0x1p-53, 1.0 - 0x1p-30, 1.0 - 0x1p-12, 1.0 - 0x1p-9, 0.999, 0.0]
        var failures = 0
        for x in 0..<k {
            for u in tops {
                let f = UniformDequantizer.place(bin: x, u: u, offset: offset, scale: scale, as: Float.self)
                let d = UniformDequantizer.place(bin: x, u: u, offset: offset, scale: scale, as: Double.self)
                if range.bin(of: Double(f), binCount: k) != x { failures += 1 }
                if range.bin(of: d, binCount: k) != x { failures += 1 }
            }
        }
        #expect(failures == 0)
    }

    /// The branch-free placement of the bulk float32 loop gives the same bits as the plain
    /// guarded one for every 8- and 16-bit code, in both ranges, with u at the top of its grid
    /// (where the guard fires), at zero and in between; every value decodes to its code.
    @Test(arguments: DequantRange.allCases)
    func branchFreePlacementEqualsGuardedPlacement(_ range: DequantRange) {
        var mismatches = 0, undecodable = 0, guarded = 0
        for k in [256, 65536] {
            let scale = Float(range.scale(binCount: k)), offset = Int32(range.offset(binCount: k))
            for x in 0..<Int32(k) {
                for u24: UInt32 in [0xFF_FFFF, 0xFF_FFFE, 0xFF_FF80, 0xFF_F000, 0x80_0000, 1, 0] {
                    let a = UniformDequantizer.placeFloatFast(bin: x, u24: u24, offset: offset, scale: scale)
                    let b = UniformDequantizer.placeFloat(bin: x, u24: u24, offset: offset, scale: scale)
                    if a.bitPattern != b.bitPattern { mismatches += 1 }
                    if range.bin(of: Double(a), binCount: k) != Int(x) { undecodable += 1 }
                    let base = Float(x + offset)
                    if base + Float(u24) * 0x1p-24 == base + 1 { guarded += 1 }
                }
            }
        }
        #expect(mismatches == 0 && undecodable == 0)
        #expect(guarded > 30_000)   // the guard really fired, on positive and negative tops alike
    }

    /// The naive float32 formula breaks the contract (the reason for the guard): codes >= 32768
    /// with u near 1 round onto the next bin, and code 65535 reaches 1.0.
    @Test func naiveFloat32Fails() {
        let x = 65535, u = 1.0 - 0x1p-12
        let naive = (Float(x) + Float(u)) / 65536
        #expect(naive == 1.0)
        #expect(DequantRange.unit.bin(of: Double(naive), binCount: 65536) == nil)
        let guarded = UniformDequantizer.place(bin: x, u: u, offset: 0, scale: 1.0 / 65536, as: Float.self)
        #expect(guarded < 1 && DequantRange.unit.bin(of: Double(guarded), binCount: 65536) == x)
    }

    @Test(arguments: DequantRange.allCases)
    func twentyFourBitInDoubleHoldsAtTheTop(_ range: DequantRange) {
        let k = 1 << 24
        for x in [0, 1, k / 2 - 1, k / 2, k - 2, k - 1] + Array(stride(from: 5, to: k, by: 65537)) {
            for u in [1.0, 1.0 - 0x1p-53, 1.0 - 0x1p-29, 0.0] {
                let d = UniformDequantizer.place(bin: x, u: u, offset: range.offset(binCount: k), scale: range.scale(binCount: k), as: Double.self)
                #expect(range.bin(of: d, binCount: k) == x)
            }
        }
    }

    /// The guard moves only values that would round onto the bin top: for the loudest code, the
    /// share at the largest float below the top stays at its grid share (1/256 of the bin for
    /// unit-range float32 near 1, half a grid cell rounded up plus the half that rounds to it),
    /// unlike capping u at 1 - 2^-8, which piles 1/256 on one value and fails KS on 200k samples.
    @Test func guardDoesNotPileUpAtTheTop() {
        let k = 65536, x = 65535, n = 200_000
        let deq = UniformDequantizer(binCount: k, range: .unit, key: NoiseKey(seed: 3))
        let bins = [UInt32](repeating: UInt32(x), count: n)
        var out = [Float](repeating: 0, count: n)
        bins.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { deq.dequantize(bins: b, firstIndex: 0, into: $0) } }
        let top = Float(1.0).nextDown
        let atTop = Double(out.filter { $0 == top }.count) / Double(n)
        // grid step near 1 in float32 is 2^-24 = 1/256 of a 16-bit bin: the top value collects
        // u in [1 - 1.5/256, 1): expected share 1.5/256.
        #expect(abs(atTop - 1.5 / 256) < 5 * (1.5 / 256 / Double(n)).squareRoot())
        // KS distance of w = y*K - x to U(0,1), evaluated at grid midpoints, stays tiny.
        var hist = [Int](repeating: 0, count: 256)
        for y in out { hist[min(255, Int(((Double(y) * Double(k) - Double(x)) * 256).rounded()))] += 1 }
        var cdf = 0, d = 0.0
        for j in 0..<255 {
            cdf += hist[j]
            d = max(d, abs(Double(cdf) / Double(n) - (Double(j) + 0.5) / 256))
        }
        #expect(d < 1.628 / Double(n).squareRoot())
    }
}

@Suite struct DeterminismTests {
    /// Output depends only on (key, sample index): any split into pieces gives the same values.
    @Test func piecesEqualWhole() {
        let k = 256
        let deq = UniformDequantizer(binCount: k, range: .symmetric, key: NoiseKey(seed: 42, name: "x.wav"))
        let bins = (0..<10_000).map { UInt32(($0 * 7919) % k) }
        var whole = [Float](repeating: 0, count: bins.count)
        bins.withUnsafeBufferPointer { b in whole.withUnsafeMutableBufferPointer { deq.dequantize(bins: b, firstIndex: 0, into: $0) } }
        for piece in [1, 3, 1000, 4096] {
            var parts = [Float](repeating: 0, count: bins.count)
            var i = 0
            while i < bins.count {
                let n = min(piece, bins.count - i)
                bins.withUnsafeBufferPointer { b in
                    parts.withUnsafeMutableBufferPointer { p in
                        deq.dequantize(bins: UnsafeBufferPointer(rebasing: b[i..<(i + n)]), firstIndex: i,
                                       into: UnsafeMutableBufferPointer(rebasing: p[i..<(i + n)]))
                    }
                }
                i += n
            }
            #expect(parts == whole)
        }
        for (x, y) in zip(bins, whole) { #expect(DequantRange.symmetric.bin(of: Double(y), binCount: k) == Int(x)) }
    }
}
