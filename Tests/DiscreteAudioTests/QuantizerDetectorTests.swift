import Foundation
import Testing
@testable import DiscreteAudio

/// Deterministic test signals on the 16-bit scale.
enum TestSignal {
    /// A speech-like 16-bit signal: two tones under a slow envelope plus noise (LCG), `peak` full scale.
    static func speech(_ n: Int, peak: Double = 0.5, noise: Double = 0.02, seed: UInt64 = 1) -> [Int] {
        var s = seed
        return (0..<n).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let r = Double(Int64(bitPattern: s) >> 11) / Double(1 << 52)   // [−1, 1)
            let t = Double(i) / 8000
            let env = 0.3 + 0.7 * pow(sin(2 * .pi * 0.9 * t), 2)
            let x = peak * env * (0.7 * sin(2 * .pi * 210 * t) + 0.3 * sin(2 * .pi * 1330 * t)) + noise * r
            return max(-32768, min(32767, Int((x * 32768).rounded())))
        }
    }

    /// Uniform random 16-bit values.
    static func noise16(_ n: Int, seed: UInt64 = 7) -> [Int] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Int(Int16(truncatingIfNeeded: s >> 48))
        }
    }
}

@Suite struct QuantizerDetectorTests {
    static func detect(_ values: [Int], _ encoding: SampleEncoding = .pcm16, declaredValidBits: Int? = nil,
                       chunk: Int = 4096) throws -> QuantizerDetection {
        var d = try QuantizerDetector(encoding: encoding)
        let bins = values.map { UInt32($0 + encoding.binCount / 2) }
        for start in stride(from: 0, to: bins.count, by: chunk) {
            bins[start..<min(start + chunk, bins.count)].withUnsafeBufferPointer { d.add(bins: $0) }
        }
        return try d.detect(declaredValidBits: declaredValidBits)
    }

    // MARK: mistake 1: full-resolution or synthetic signals must stay `container`

    @Test func random16BitNoiseIsNotALattice() throws {
        let r = try Self.detect(TestSignal.noise16(100_000))
        #expect(r.quantizer == .container(.pcm16) && r.basis == .container)
        #expect(r.evidence.commonStepLog2 == 0 && r.reason.contains("odd values"))
    }

    @Test func quietFullResolutionSpeechIsNotALattice() throws {
        // Peak ≈ 60 LSB: few distinct values, but odd ones among them.
        let r = try Self.detect(TestSignal.speech(20_000, peak: 0.002, noise: 0.0003))
        #expect(r.quantizer == .container(.pcm16))
        #expect(r.evidence.distinctNonzero >= 32 && r.evidence.commonStepLog2 == 0 && r.evidence.latticeEvidenceBits == 0)
    }

    @Test func syntheticFewLevelSignalsAreNotLattices() throws {
        // A square wave (2^14 lattice, 1 magnitude), a tone at fs/4 (0, ±8192), a quiet tone whose
        // values all happen to be even (15 magnitudes on 2^1), digital silence with clicks.
        let square = (0..<48_000).map { $0 % 100 < 50 ? 16384 : -16384 }
        let quarter = (0..<48_000).map { [0, 8192, 0, -8192][$0 % 4] }
        let evenTone = (0..<48_000).map { 2 * Int((15 * sin(Double($0) * 0.01)).rounded()) }
        let clicks = (0..<48_000).map { $0 % 9000 == 0 ? 20000 : 0 }
        for (name, x) in [("square", square), ("fs/4", quarter), ("even tone", evenTone), ("clicks", clicks)] {
            let r = try Self.detect(x)
            #expect(r.quantizer == .container(.pcm16), "\(name): \(r.reason)")
            #expect(r.evidence.latticeEvidenceBits < QuantizerDetection.requiredEvidenceBits)
            #expect(r.reason.contains("too little to tell"), "\(name)")
        }
        let even = try Self.detect(evenTone).evidence
        #expect(even.commonStepLog2 == 1 && even.independentValues == 15 && even.latticeEvidenceBits == 15)
    }

    @Test func tooFewSamplesOrNoneStayContainer() throws {
        let short = try Self.detect([256, -512, 768, 1024, -256, 0, 512, 256, 1280, -768])
        #expect(short.quantizer == .container(.pcm16) && short.reason.contains("too little"))
        #expect(short.evidence.samples == 10 && short.evidence.commonStepLog2 == 8)
        // 5 magnitudes about 0, 4 distances from the midrange 256: 4 x 8 = 32 bits
        #expect(short.evidence.distinctMagnitudes == 5 && short.evidence.midrangeDistances == 4)
        #expect(short.evidence.latticeEvidenceBits == 32)
        let none = try Self.detect([])
        #expect(none.quantizer == .container(.pcm16) && none.reason == "no samples")
        let zeros = try Self.detect([Int](repeating: 0, count: 1000))
        #expect(zeros.reason == "every sample is 0" && zeros.evidence.commonStepLog2 == nil)
        #expect(zeros.evidence.independentValues == 0)
    }

    /// DC (any constant, however round) is never a lattice: a constant has no distance from its
    /// midrange, so D = 0.
    @Test(arguments: [SampleEncoding.pcm16, .pcm24, .pcmU8])
    func dcIsNotALattice(_ e: SampleEncoding) throws {
        let half = e.binCount / 2
        for c in [1, 2, 64, 256, 4096, half / 2, -half / 2, -half] where c >= -half && c < half {
            let r = try Self.detect([Int](repeating: c, count: 5000), e)
            #expect(r.quantizer == .container(e) && r.evidence.independentValues == 0, "DC \(c): \(r.reason)")
        }
    }

    /// The threshold is k·D ≥ 40 bits: D = 5 magnitudes of a 2^8 lattice qualify, 4 do not; on 2^5
    /// 8 qualify, 7 do not; on 2^1 40 and 39; on 2^13 (3 bits) all 4 of them, 3 do not. Values
    /// −d·2^k ..< d·2^k: d magnitudes about 0, d distances from the midrange −2^(k−1).
    @Test func thresholdIsFortyBitsOfEvidence() throws {
        func symmetric(_ d: Int, _ k: Int) -> [Int] {
            Array(repeating: (-d..<d).map { $0 << k }, count: 50).flatMap { $0 }
        }
        for (k, d) in [(8, 5), (5, 8), (1, 40), (13, 4)] {
            let at = try Self.detect(symmetric(d, k))
            #expect(at.quantizer == (try Quantizer.lattice(.pcm16, stepLog2: k)), "2^\(k), D = \(d): \(at.reason)")
            #expect(at.evidence.independentValues == d && at.evidence.latticeEvidenceBits == k * d)
            let below = try Self.detect(symmetric(d - 1, k))
            #expect(below.quantizer == .container(.pcm16), "2^\(k), D = \(d - 1): \(below.reason)")
            #expect(below.evidence.latticeEvidenceBits == k * (d - 1))
        }
    }

    /// The reviewer's tones (16 kHz, 250 Hz: period 64). v and −v have the same parity, so a
    /// symmetric signal's values are half as many trials: 16 magnitudes, 16 bits on 2^1, not 32.
    /// Truncated 15780 and rounded 9873.640…9873.656 and 14586.479…14586.499 put every sample on
    /// 2^1 and were taken for a 15-bit lattice ("32 bits of evidence").
    @Test func periodSixtyFourTonesOnTwoToTheOneAreNotLattices() throws {
        func tone(_ a: Double, _ rule: FloatingPointRoundingRule) -> [Int] {
            (0..<16_000).map { Int((a * sin(2 * Double.pi * Double($0 % 64) / 64)).rounded(rule)) }
        }
        var cases = [tone(15780, .towardZero)]
        for i in 0...16 { cases.append(tone(9873.640 + Double(i) / 1000, .toNearestOrEven)) }
        for i in 0...20 { cases.append(tone(14586.479 + Double(i) / 1000, .toNearestOrEven)) }
        for x in cases {
            let r = try Self.detect(x)
            #expect(r.evidence.commonStepLog2 == 1 && r.evidence.distinctNonzero == 32)
            #expect(r.evidence.independentValues == 16 && r.evidence.latticeEvidenceBits == 16)
            #expect(r.quantizer == .container(.pcm16), "\(r.reason)")
        }
    }

    /// A battery of synthetic tones is never taken for a lattice: integer periods 3…1000 at zero
    /// and nonzero phase, amplitudes across the 16-bit range (every 29th integer at period 64),
    /// rounded and truncated, whole files and 7-sample prefixes; and 24-bit tones. (Run once with
    /// every integer amplitude at period 64 and 10x finer strides elsewhere, 140,606 tones: none.)
    @Test func syntheticToneBatteryStaysContainer() throws {
        func tone(_ a: Double, period p: Int, phase: Double, count: Int, _ rule: FloatingPointRoundingRule) -> [Int] {
            (0..<count).map { Int((a * sin(2 * Double.pi * Double($0 % p) / Double(p) + phase)).rounded(rule)) }
        }
        var tested = 0, lattices: [String] = []
        func check(_ x: [Int], _ e: SampleEncoding, _ name: @autoclosure () -> String) throws {
            let r = try Self.detect(x, e, chunk: x.count)
            tested += 1
            if r.quantizer != .container(e) { lattices.append("\(name()): \(r.reason)") }
        }
        for rule in [FloatingPointRoundingRule.toNearestOrEven, .towardZero] {
            for a in stride(from: 1, through: 32767, by: 29) {
                try check(tone(Double(a), period: 64, phase: 0, count: 64, rule), .pcm16, "P 64 A \(a) \(rule)")
            }
            for p in [3, 4, 5, 6, 7, 8, 10, 12, 16, 20, 24, 32, 40, 48, 50, 80, 96, 100, 128, 160, 200, 256, 441, 1000] {
                for phase in [0, 0.3] {
                    for a in stride(from: 1.5, to: 32767, by: 997.3) {
                        let x = tone(a, period: p, phase: phase, count: max(p, 256), rule)
                        try check(x, .pcm16, "P \(p) phase \(phase) A \(a) \(rule)")
                        try check(Array(x.prefix(7)), .pcm16, "first 7 of P \(p) phase \(phase) A \(a) \(rule)")
                    }
                    for a in stride(from: 100.5, to: 8_388_607, by: 777_777.7) {
                        try check(tone(a, period: p, phase: phase, count: max(p, 256), rule), .pcm24, "24-bit P \(p) A \(a)")
                    }
                }
            }
        }
        #expect(lattices.isEmpty, "\(lattices.count) of \(tested): \(lattices.prefix(5))")
        #expect(tested > 9_000)
    }

    /// A tone with a DC offset c has its values in pairs c ± s that are on a lattice together:
    /// the 16 distances from the midrange count, not the 33 magnitudes about 0 (66 bits on 2^2).
    @Test func dcOffsetToneCountsDistancesFromItsCentre() throws {
        let x = (0..<6400).map { 20_000 + 4 * Int((3001 * sin(2 * Double.pi * Double($0 % 64) / 64)).rounded()) }
        let r = try Self.detect(x)
        #expect(r.evidence.commonStepLog2 == 2)
        #expect(r.evidence.distinctMagnitudes == 33 && r.evidence.midrangeDistances == 16)
        #expect(r.evidence.latticeEvidenceBits == 32 && r.quantizer == .container(.pcm16), "\(r.reason)")
    }

    // MARK: mistake 2: coarse recordings must be found

    @Test(arguments: [8, 4, 1])
    func reducedBitDepthIn16IsALattice(_ k: Int) throws {
        // (16 − k)-bit audio stored left-justified (8-bit: the FSDD "nicolas" case).
        let x = TestSignal.speech(8000).map { ($0 >> k) << k }
        let r = try Self.detect(x)
        #expect(r.quantizer == (try Quantizer.lattice(.pcm16, stepLog2: k)), "\(r.reason)")
        #expect(r.basis == .lattice && r.evidence.commonStepLog2 == k)
    }

    @Test func sixteenBitIn24IsALattice() throws {
        let x = TestSignal.speech(8000).map { $0 * 256 }
        let r = try Self.detect(x, .pcm24)
        #expect(r.quantizer == (try Quantizer.lattice(.pcm24, stepLog2: 8)))
    }

    @Test(arguments: [SampleEncoding.ulaw, .alaw])
    func g711ExpandedTo16BitIsFound(_ law: SampleEncoding) throws {
        // Encode with the Sun encoder (Python audioop's; sox rounds to the law's input grid first), decode
        // with the table, as a G.711 file expanded back to 16-bit PCM.
        let x = TestSignal.speech(8000).map { v -> Int in
            law == .ulaw ? G711.muLawLinear(ReferenceG711.sunULaw(v)) : G711.aLawLinear(ReferenceG711.sunALaw(v))
        }
        let r = try Self.detect(x)
        #expect(r.quantizer == (try Quantizer.g711Linear(law, container: .pcm16)), "\(r.reason)")
        #expect(r.basis == .g711Levels)
        // Without the G.711 rule the data would pass as a 2^2 (μ-law) or 2^3 (A-law) lattice.
        #expect(r.evidence.commonStepLog2 == (law == .ulaw ? 2 : 3))
        #expect(r.evidence.latticeEvidenceBits >= 40)
        let bits = law == .ulaw ? r.evidence.muLawEvidenceBits : r.evidence.aLawEvidenceBits
        #expect((bits ?? 0) >= QuantizerDetection.requiredEvidenceBits)
        #expect((law == .ulaw ? r.evidence.offMuLawLevels : r.evidence.offALawLevels) == 0)
        // At 24-bit scale (×256) the same data is found at scale 256.
        let wide = try Self.detect(x.map { $0 * 256 }, .pcm24)
        #expect(wide.quantizer == (try Quantizer.g711Linear(law, container: .pcm24)), "\(wide.reason)")
    }

    @Test func oneSampleOffTheLevelsLosesG711() throws {
        var x = TestSignal.speech(8000).map { G711.muLawLinear(ReferenceG711.sunULaw($0)) }
        x[4000] = 4    // a multiple of 4 that is not a μ-law level
        let r = try Self.detect(x)
        #expect(r.evidence.offMuLawLevels == 1 && r.evidence.muLawEvidenceBits == nil)
        #expect(r.quantizer == (try Quantizer.lattice(.pcm16, stepLog2: 2)))
    }

    /// Digital silence in expanded G.711: 0 is μ-law's zero level, so μ-law levels with zeros stay
    /// μ-law cells; it is no A-law level (the cell [0, 16) decodes to 8, and restore must give
    /// the 0 back), so A-law levels with zeros are their 2^3 lattice, which holds 0 exactly.
    @Test func zerosKeepMuLawButNotALaw() throws {
        let speech = TestSignal.speech(8000)
        let mu = [Int](repeating: 0, count: 800) + speech.map { G711.muLawLinear(ReferenceG711.sunULaw($0)) }
        let m = try Self.detect(mu)
        #expect(m.quantizer == (try Quantizer.g711Linear(.ulaw, container: .pcm16)), "\(m.reason)")
        #expect(m.evidence.offMuLawLevels == 0)
        let a = [Int](repeating: 0, count: 800) + speech.map { G711.aLawLinear(ReferenceG711.sunALaw($0)) }
        let r = try Self.detect(a)
        #expect(r.evidence.offALawLevels == 1 && r.evidence.aLawEvidenceBits == nil)
        #expect(r.quantizer == (try Quantizer.lattice(.pcm16, stepLog2: 3)), "\(r.reason)")
    }

    @Test func segmentZeroMuLawLevelsAreALatticeNotG711() throws {
        // 0, ±8, …, ±120 are μ-law levels and a 2^3 lattice: no evidence for μ-law over the lattice
        // (the spacing is the lattice step), 15 x 3 = 45 bits for the lattice.
        let x = (0..<10_000).map { 8 * ((($0 * 7) % 31) - 15) }
        let r = try Self.detect(x)
        #expect(r.evidence.offMuLawLevels == 0 && r.evidence.distinctNonzero == 30)
        #expect(r.evidence.muLawEvidenceBits == 0 && r.evidence.latticeEvidenceBits == 45)
        #expect(r.quantizer == (try Quantizer.lattice(.pcm16, stepLog2: 3)), "\(r.reason)")
    }

    /// The G.711 evidence counts each magnitude once (the levels are symmetric): the 16 μ-law levels
    /// of segment 1 with both signs are 16 magnitudes x log2(16/4) = 32 bits, not 64, so neither
    /// μ-law nor (16 x 2 bits on 2^2) a lattice.
    @Test func symmetricG711LevelsCountOncePerMagnitude() throws {
        let seg1 = (0..<16).map { G711.muLawLinear(UInt8(0xFF - 16 - $0)) }   // bytes 0xEF…0xE0: +132…+372
        #expect(seg1.first == 132 && seg1.last == 372)
        let x = (0..<6400).map { i in (i % 2 == 0 ? 1 : -1) * seg1[(i / 2) % 16] }
        let r = try Self.detect(x)
        #expect(r.evidence.offMuLawLevels == 0 && r.evidence.distinctNonzero == 32)
        #expect(r.evidence.muLawEvidenceBits == 32 && r.evidence.distinctMagnitudes == 16)
        #expect(r.evidence.latticeEvidenceBits == 32 && r.quantizer == .container(.pcm16), "\(r.reason)")
        // With segment 2's levels too (16 more magnitudes x 3 bits): μ-law.
        let seg2 = (0..<16).map { G711.muLawLinear(UInt8(0xFF - 32 - $0)) }
        let both = try Self.detect(x + seg2 + seg2.map { -$0 })
        #expect(both.evidence.muLawEvidenceBits == 32 + 48)
        #expect(both.quantizer == (try Quantizer.g711Linear(.ulaw, container: .pcm16)), "\(both.reason)")
    }

    /// A quiet 8-bit recording in 16 bits with only 11 levels (−6…4 x 256, like the quietest FSDD
    /// "nicolas" file): 6 magnitudes about 0, 5 distances from the midrange −256: 5 x 8 = 40 bits,
    /// a 2^8 lattice. (Counting one bit per distinct value against 2^7, it stayed `container`.)
    @Test func quietEightBitRecordingIsALattice() throws {
        var s: UInt64 = 3
        let x = (0..<2000).map { _ -> Int in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return 256 * (Int(s >> 33) % 11 - 6)
        }
        let r = try Self.detect(x)
        #expect(r.evidence.distinctValues == 11 && r.evidence.distinctMagnitudes == 6)
        #expect(r.evidence.independentValues == 5 && r.evidence.latticeEvidenceBits == 40)
        #expect(r.quantizer == (try Quantizer.lattice(.pcm16, stepLog2: 8)) && r.basis == .lattice, "\(r.reason)")
        #expect(r.reason == "every sample is a multiple of 2^8 (5 independent magnitudes x 8 bits = 40 bits of evidence >= 40: chance 2^-40 for arbitrary integers)")
    }

    // MARK: declared valid bits

    @Test func declaredValidBits() throws {
        // A quiet 12-bit recording with few levels: the header decides.
        let few = (0..<1000).map { 16 * (($0 % 9) - 4) }
        let declared = try Self.detect(few, declaredValidBits: 12)
        let lattice4 = try Quantizer.lattice(.pcm16, stepLog2: 4)
        #expect(declared.quantizer == lattice4 && declared.basis == .declaredValidBits)
        #expect(try Self.detect(few).quantizer == .container(.pcm16))
        // Coarser data than declared: the data's lattice (8-bit audio in a 12-bit declaration).
        let eight = TestSignal.speech(8000).map { ($0 >> 8) << 8 }
        #expect(try Self.detect(eight, declaredValidBits: 12).quantizer == (try Quantizer.lattice(.pcm16, stepLog2: 8)))
        // A declaration the samples contradict is ignored, and said.
        let full = try Self.detect(TestSignal.speech(8000), declaredValidBits: 12)
        #expect(full.quantizer == .container(.pcm16) && full.reason.contains("contradicted"))
        #expect(throws: DiscreteAudioError.validBitsOutOfRange(validBits: 17, containerBits: 16)) {
            try Self.detect(few, declaredValidBits: 17)
        }
    }

    // MARK: streaming

    @Test func resultDoesNotDependOnChunkingOrSplitting() throws {
        let x = TestSignal.speech(30_000).map { ($0 >> 8) << 8 }
        let whole = try Self.detect(x, chunk: x.count)
        #expect(try Self.detect(x, chunk: 1) == whole)
        #expect(try Self.detect(x, chunk: 777) == whole)
        var a = try QuantizerDetector(encoding: .pcm16), b = try QuantizerDetector(encoding: .pcm16)
        let i16 = x.map { Int16($0) }
        i16[..<12_345].withUnsafeBufferPointer { a.add($0) }
        let i32 = x[12_345...].map { Int32($0) }
        i32.withUnsafeBufferPointer { b.add($0) }
        a.merge(b)
        #expect(try a.detect() == whole)
        #expect(throws: DiscreteAudioError.needsLinearPCM(.ulaw)) { try QuantizerDetector(encoding: .ulaw) }
    }

    /// 24-bit: the table grows with the pages samples touch (4 KiB each, plus a 16 KiB index), not
    /// 16 MiB per file; splitting a stream between detectors that touch pages in other orders and
    /// merging them gives the same decision.
    @Test func twentyFourBitTableGrowsWithTheSamples() throws {
        let x = TestSignal.speech(30_000, peak: 0.9).map { $0 * 256 }
        let whole = try Self.detect(x, .pcm24, chunk: x.count)
        #expect(whole.quantizer == (try Quantizer.lattice(.pcm24, stepLog2: 8)))
        #expect(try Self.detect(x, .pcm24, chunk: 333) == whole)
        var a = try QuantizerDetector(encoding: .pcm24), b = try QuantizerDetector(encoding: .pcm24)
        #expect(a.tableBytes == 4096 * 4)
        Array(x.reversed().prefix(17_000)).map { Int32($0) }.withUnsafeBufferPointer { a.add($0) }
        x.prefix(13_000).map { Int32($0) }.withUnsafeBufferPointer { b.add($0) }
        b.merge(a)
        #expect(try b.detect() == whole)
        // 100 samples spread over the whole 24-bit range: at most 100 pages.
        var small = try QuantizerDetector(encoding: .pcm24)
        let spread = (0..<100).map { UInt32($0 * 167_772 + 5) }
        spread.withUnsafeBufferPointer { small.add(bins: $0) }
        #expect(small.tableBytes == 4096 * 4 + 100 * 4096)
        #expect(try small.detect().evidence.distinctValues == 100)
    }

    @Test func eightBitContainersHaveNoG711Evidence() throws {
        let x = TestSignal.speech(8000, peak: 0.9).map { $0 >> 8 }   // −128...127
        let r = try Self.detect(x, .pcmS8)
        #expect(r.quantizer == .container(.pcmS8) && r.evidence.offMuLawLevels == nil)
        let coarse = try Self.detect(x.map { ($0 >> 2) << 2 }, .pcmU8)
        #expect(coarse.quantizer == (try Quantizer.lattice(.pcmU8, stepLog2: 2)), "\(coarse.reason)")
    }
}
