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
        #expect(r.evidence.distinctNonzero >= 32 && r.evidence.commonStepLog2 == 0)
    }

    @Test func syntheticFewLevelSignalsAreNotLattices() throws {
        // A square wave (2^14 lattice, 2 levels), a tone at fs/4 (0, ±8192), a quiet tone whose
        // values all happen to be even (31 levels, on 2^1), digital silence with clicks.
        let square = (0..<48_000).map { $0 % 100 < 50 ? 16384 : -16384 }
        let quarter = (0..<48_000).map { [0, 8192, 0, -8192][$0 % 4] }
        let evenTone = (0..<48_000).map { 2 * Int((15 * sin(Double($0) * 0.01)).rounded()) }
        let clicks = (0..<48_000).map { $0 % 9000 == 0 ? 20000 : 0 }
        for (name, x) in [("square", square), ("fs/4", quarter), ("even tone", evenTone), ("clicks", clicks)] {
            let r = try Self.detect(x)
            #expect(r.quantizer == .container(.pcm16), "\(name): \(r.reason)")
            #expect(r.evidence.distinctNonzero < QuantizerDetection.minimumDistinctNonzero)
            #expect(r.reason.contains("too few distinct"), "\(name)")
        }
        #expect(try Self.detect(evenTone).evidence.commonStepLog2 == 1)
    }

    @Test func tooFewSamplesOrNoneStayContainer() throws {
        let short = try Self.detect([256, -512, 768, 1024, -256, 0, 512, 256, 1280, -768])
        #expect(short.quantizer == .container(.pcm16) && short.reason.contains("too few"))
        #expect(short.evidence.samples == 10 && short.evidence.commonStepLog2 == 8)
        let none = try Self.detect([])
        #expect(none.quantizer == .container(.pcm16) && none.reason == "no samples")
        let zeros = try Self.detect([Int](repeating: 0, count: 1000))
        #expect(zeros.reason == "every sample is 0" && zeros.evidence.commonStepLog2 == nil)
    }

    @Test func thresholdIs32DistinctNonzeroValues() throws {
        // 31 distinct nonzero multiples of 256 (plus 0): container; one more: lattice 2^8.
        let levels31 = (-15...16).map { $0 * 256 }           // 32 values including 0
        let levels32 = (-16...16).map { $0 * 256 }
        let below = try Self.detect(Array(repeating: levels31, count: 100).flatMap { $0 })
        let at = try Self.detect(Array(repeating: levels32, count: 100).flatMap { $0 })
        #expect(below.evidence.distinctNonzero == 31 && below.quantizer == .container(.pcm16))
        let lattice8 = try Quantizer.lattice(.pcm16, stepLog2: 8)
        #expect(at.evidence.distinctNonzero == 32 && at.quantizer == lattice8)
        #expect(at.evidence.latticeEvidenceBits == 32)
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
        #expect(r.evidence.latticeEvidenceBits >= 32)
        let bits = law == .ulaw ? r.evidence.muLawEvidenceBits : r.evidence.aLawEvidenceBits
        #expect((bits ?? 0) >= QuantizerDetection.minimumEvidenceBits)
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

    @Test func segmentZeroMuLawLevelsAloneAreNotEnough() throws {
        // 0, ±8, …, ±120 are μ-law levels and a 2^3 lattice: 30 nonzero levels, no claim either way.
        let x = (0..<10_000).map { 8 * ((($0 * 7) % 31) - 15) }
        let r = try Self.detect(x)
        #expect(r.evidence.offMuLawLevels == 0 && r.evidence.distinctNonzero == 30)
        #expect(r.quantizer == .container(.pcm16))
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

    @Test func eightBitContainersHaveNoG711Evidence() throws {
        let x = TestSignal.speech(8000, peak: 0.9).map { $0 >> 8 }   // −128...127
        let r = try Self.detect(x, .pcmS8)
        #expect(r.quantizer == .container(.pcmS8) && r.evidence.offMuLawLevels == nil)
        let coarse = try Self.detect(x.map { ($0 >> 2) << 2 }, .pcmU8)
        #expect(coarse.quantizer == (try Quantizer.lattice(.pcmU8, stepLog2: 2)), "\(coarse.reason)")
    }
}
