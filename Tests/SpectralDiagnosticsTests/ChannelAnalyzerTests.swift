import DiscreteAudio
import Foundation
import Testing
@testable import SpectralDiagnostics

@Suite struct CleanNoiseTests {
    /// Clean uniform noise, 100 seeds, 2^15 samples each: the family-wise α per channel is 0.01,
    /// so about 1 failing channel is expected; ≥ 6 would have probability < 1e-3.
    @Test func cleanUniformNoisePassesForHundredSeeds() async throws {
        let codes = Synthetic.codes(count: 1 << 15)
        let failures = try await withThrowingTaskGroup(of: [String].self) { group in
            for seed in 0..<100 {
                group.addTask {
                    let values = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: UInt64(1000 + seed)))
                    let r = try Synthetic.analyze(codes: codes, values: values, pieces: 1)
                    return r.checks.filter { $0.applies && !$0.passed }.map { "seed \(1000 + seed): \($0.name) \($0.value) > \($0.limit)" }
                }
            }
            var all: [[String]] = []
            for try await f in group { all.append(f) }
            return all
        }
        let failingChannels = failures.filter { !$0.isEmpty }
        print("clean-noise failures:", failingChannels)
        #expect(failingChannels.count <= 5, "\(failingChannels)")
    }

    @Test(arguments: [(DequantRange.unit, ValuePrecision.float64), (.symmetric, .float64), (.unit, .float32), (.symmetric, .float32)])
    func cleanNoisePassesInEveryRangeAndPrecision(range: DequantRange, precision: ValuePrecision) throws {
        let codes = Synthetic.codes(count: 1 << 16)
        var values = Synthetic.dequantize(codes, range: range, noise: Synthetic.uniformNoise(seed: 7))
        if precision == .float32 { values = Synthetic.storeAsFloat32(values, codes: codes, range: range) }
        let r = try Synthetic.analyze(codes: codes, values: values, range: range, precision: precision)
        let failed = r.checks.filter { !$0.passed }.map(\.name)
        #expect(failed.isEmpty, "\(failed)")
        #expect(r.checks.map(\.name) == CheckResult.allNames)
        #expect(r.checks.allSatisfy { $0.applies })
        // the noise floor is the theoretical one for uniform noise, within the Welch scatter
        #expect(abs(r.noisePSD.meanRelativeToFloor - 1) < 0.03)
        #expect(abs(r.withinBin.mean - 0.5) < 0.01 && abs(r.withinBin.variance - 1.0 / 12) < 0.002)
    }

    @Test(arguments: [DequantRange.unit, .symmetric])
    func cleanEightBitNoisePasses(range: DequantRange) throws {
        // 8-bit codes (K = 256): a sine over ±100 bins plus ±3 bins of jitter, stored as float32
        let k = 256
        let codes: [UInt32] = (0..<(1 << 16)).map { t in
            let s = 100 * sin(2 * Double.pi * 300 * Double(t) / Synthetic.sampleRate)
            return UInt32(128 + s + 6 * (TestRandom.uniform(seed: 4, index: UInt64(t)) - 0.5))
        }
        let scale = range.scale(binCount: k), offset = Double(range.offset(binCount: k))
        let exact = codes.indices.map { t in scale * (Double(codes[t]) + offset + TestRandom.uniform(seed: 7, index: UInt64(t))) }
        let values = Synthetic.storeAsFloat32(exact, codes: codes, range: range, binCount: k)
        let r = try Synthetic.analyze(codes: codes, values: values, range: range, precision: .float32, binCount: k)
        #expect(r.containment.binLeakage == 0)
        let failed = r.checks.filter { !$0.passed }.map(\.name)
        #expect(failed.isEmpty, "\(failed)")
    }

    @Test func configDecodesWithDefaults() throws {
        let c = try JSONDecoder().decode(DiagnosticsConfig.self, from: Data(#"{"lags": 10, "noiseKind": "learned"}"#.utf8))
        #expect(c == DiagnosticsConfig(lags: 10, noiseKind: .learned))
        let round = try JSONDecoder().decode(DiagnosticsConfig.self, from: JSONEncoder().encode(DiagnosticsConfig(blockLength: 512)))
        #expect(round.blockLength == 512)
    }

    @Test func streamingPiecesDoNotChangeTheResult() throws {
        let codes = Synthetic.codes(count: 20_000)
        let values = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: 3))
        let one = try Synthetic.analyze(codes: codes, values: values, pieces: 1)
        let many = try Synthetic.analyze(codes: codes, values: values, pieces: 7)
        #expect(one.noisePSD.density == many.noisePSD.density)
        // chunked sums only change the rounding of the last digits
        for (a, b) in zip(one.autocorrelation.r + one.checks.map(\.value), many.autocorrelation.r + many.checks.map(\.value)) {
            #expect(abs(a - b) <= 1e-12 * max(1, abs(a)))
        }
    }
}

/// Deliberately bad dequantizations, each caught by the check that names it.
@Suite struct BadDequantizationTests {
    enum Defect: String, CaseIterable, CustomTestStringConvertible {
        case float32NextBin, noNoise, constantOffset, edgePileUp, generatorRestarts, correlatedWithSignal, faintTone
        var testDescription: String { rawValue }

        /// The check that must catch it (others may fail too).
        var check: String {
            switch self {
            case .float32NextBin: return "containment"
            case .noNoise: return "uniformity"
            case .constantOffset: return "uniformity"
            case .edgePileUp: return "edge-mass"
            case .generatorRestarts: return "block-spur"
            case .correlatedWithSignal: return "coherence"
            case .faintTone: return "tonal-spur"
            }
        }
    }

    static let count = 1 << 16

    static func values(_ defect: Defect, codes: [UInt32]) -> [Double] {
        let fs = Synthetic.sampleRate
        let r = Synthetic.uniformNoise(seed: 42)
        switch defect {
        case .float32NextBin:
            // y = Float((x + u)/K) without the top guard: loud samples with u near 1 round up.
            return Synthetic.dequantize(codes, noise: r).map { Double(Float($0)) }
        case .noNoise:
            return Synthetic.dequantize(codes) { _ in 0 }
        case .constantOffset:
            return Synthetic.dequantize(codes) { t in 0.03 + 0.97 * r(t) }
        case .edgePileUp:
            // one sample in ten sits within 1/64 of a bin edge
            return Synthetic.dequantize(codes) { t in
                let v = r(t)
                guard t % 10 == 0 else { return v }
                return v < 0.5 ? v / 32 : 1 - (1 - v) / 32
            }
        case .generatorRestarts:
            return Synthetic.dequantize(codes) { t in r(t % 4096) }
        case .correlatedWithSignal:
            return Synthetic.dequantize(codes) { t in
                0.5 + 0.3 * sin(2 * Double.pi * 440 * Double(t) / fs) + 0.19 * (2 * r(t) - 1)
            }
        case .faintTone:
            return Synthetic.dequantize(codes) { t in
                0.05 + 0.9 * r(t) + 0.05 * sin(2 * Double.pi * 3000 * Double(t) / fs)
            }
        }
    }

    @Test(arguments: Defect.allCases)
    func defectIsCaught(_ defect: Defect) throws {
        let codes = Synthetic.codes(count: Self.count)
        let values = Self.values(defect, codes: codes)
        let precision: ValuePrecision = defect == .float32NextBin ? .float32 : .float64
        let r = try Synthetic.analyze(codes: codes, values: values, precision: precision)
        let check = try #require(r.check(defect.check))
        #expect(!check.passed, "\(defect) not caught by \(defect.check): \(check.value) vs \(check.limit)")
        #expect(!r.passed)
        switch defect {
        case .float32NextBin:
            #expect(r.containment.binLeakage > 0 && r.containment.nonFinite == 0 && r.containment.outOfRange == 0)
        case .generatorRestarts:
            #expect(r.blockSpur.blockLength == 4096)
        case .faintTone:
            #expect(r.noisePSD.spurFrequenciesHz.contains { abs($0 - 3000) < 20 })
        case .correlatedWithSignal:
            #expect(abs(r.coherence.maxHz - 440) < 20)
        default:
            break
        }
    }

    @Test func configuredBlockLengthIsTestedAlone() throws {
        let codes = Synthetic.codes(count: Self.count)
        let r = Synthetic.uniformNoise(seed: 9)
        let config = DiagnosticsConfig(blockLength: 1000)
        // a generator restarting every 1000 samples (not a power of two) is caught at B = 1000
        let restarting = Synthetic.dequantize(codes) { t in r(t % 1000) }
        let bad = try Synthetic.analyze(codes: codes, values: restarting, config: config)
        #expect(bad.check("block-spur")?.passed == false)
        #expect(bad.blockSpur.candidates.map(\.blockLength) == [1000] && bad.blockSpur.configured)
        // clean noise passes with the same configuration
        let clean = try Synthetic.analyze(codes: codes, values: Synthetic.dequantize(codes, noise: r), config: config)
        #expect(clean.check("block-spur")?.passed == true)
    }

    @Test func learnedNoiseIsJudgedOnlyByItsChecks() throws {
        let codes = Synthetic.codes(count: Self.count)
        let r1 = Synthetic.uniformNoise(seed: 5), r2 = Synthetic.uniformNoise(seed: 6)
        // triangular within-bin noise: not uniform, but contained, white and edge-light
        let values = Synthetic.dequantize(codes) { t in 0.5 * (r1(t) + r2(t)) }
        let learned = DiagnosticsConfig(noiseKind: .learned)
        let r = try Synthetic.analyze(codes: codes, values: values, config: learned)
        #expect(r.passed, "\(r.checks.filter { $0.applies && !$0.passed })")
        let applying = Set(r.checks.filter(\.applies).map(\.name))
        #expect(applying == ["containment", "block-spur", "tonal-spur", "edge-mass"])
        #expect(r.check("uniformity")?.passed == false)
        #expect(!r.notes.isEmpty)
        // the same noise judged as uniform fails
        let asUniform = try Synthetic.analyze(codes: codes, values: values)
        #expect(!asUniform.passed)
        // learned noise following a 1 kHz tone (period 16 samples) is not a block artifact
        let tone: [UInt32] = (0..<Self.count).map { t in UInt32(32_768 + 8_000 * sin(2 * Double.pi * 1000 * Double(t) / Synthetic.sampleRate)) }
        let following = Synthetic.dequantize(tone) { t in
            0.5 + 0.25 * sin(2 * Double.pi * 1000 * Double(t) / Synthetic.sampleRate) + 0.2 * (r1(t) - 0.5)
        }
        let f = try Synthetic.analyze(codes: tone, values: following, config: learned)
        #expect(f.check("block-spur")?.passed == true)
        #expect(f.check("containment")?.passed == true)
        // ...while a configured B = 256, judged on all its harmonics, does see the tone
        let all = try Synthetic.analyze(codes: tone, values: following, config: .init(blockLength: 256, noiseKind: .learned))
        #expect(all.check("block-spur")?.passed == false)
        // learned noise that piles up at the edges fails the one-sided bound
        let edgy = Synthetic.dequantize(codes) { t in r1(t) < 0.5 ? r2(t) / 40 : 1 - r2(t) / 40 }
        let e = try Synthetic.analyze(codes: codes, values: edgy, config: learned)
        #expect(e.check("edge-mass")?.passed == false)
    }
}

@Suite struct FloatGridTests {
    /// Loud 16-bit codes stored as float32 (unit range, grid step 2⁻⁸ bin): correct noise passes
    /// the grid-aware test while a plain KS test on the same data rejects it.
    @Test func gridAwareUniformityAcceptsFloat32Storage() throws {
        let count = 1 << 20
        // codes in the upper half (all loud: 32768 … 65535)
        let codes: [UInt32] = (0..<count).map { t in
            let s = 14_000 * sin(2 * Double.pi * 523 * Double(t) / Synthetic.sampleRate)
            return UInt32(49_152 + s + 1_000 * TestRandom.uniform(seed: 8, index: UInt64(t)))
        }
        let exact = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: 11))
        let values = Synthetic.storeAsFloat32(exact, codes: codes, range: .unit)
        let r = try Synthetic.analyze(codes: codes, values: values, precision: .float32, pieces: 2)
        let wb = r.withinBin
        print("float grid: grid-aware KS", wb.ksDistance, "plain", wb.ksPlainDistance, "critical", wb.ksCritical)
        #expect(r.containment.binLeakage == 0)
        #expect(wb.gridSteps.count == 1 && wb.gridSteps[0].step == 0x1p-8)
        #expect(r.check("uniformity")?.passed == true, "grid-aware KS \(wb.ksDistance) > \(wb.ksCritical)")
        #expect(wb.ksPlainDistance > wb.ksCritical, "plain KS \(wb.ksPlainDistance) should exceed \(wb.ksCritical)")
        #expect(r.check("edge-mass")?.passed == true)
        #expect(wb.expectedEdgeShare == 2.0 / 64)
    }

    @Test func gridCDFIsTheRoundedGuardedLaw() {
        // h = 1/4: points 0, 1/4, 1/2, 3/4 with masses 1/8, 1/4, 1/4, 3/8
        let f = { (t: Double) in WithinBinAccumulator.gridCDF(t, exponent: -2, strict: false) }
        #expect(f(0) == 0.125 && f(0.2) == 0.125 && f(0.25) == 0.375 && f(0.5) == 0.625 && f(0.74) == 0.625 && f(0.75) == 1)
        #expect(WithinBinAccumulator.gridCDF(0.25, exponent: -2, strict: true) == 0.125)
        #expect(WithinBinAccumulator.gridCDF(0.3, exponent: -63, strict: false) == 0.3)
    }
}

@Suite struct InputErrorTests {
    @Test func invalidConfigThrows() {
        #expect(throws: SpectralDiagnosticsError.self) {
            try ChannelAnalyzer(config: .init(nperseg: 1000 + 1), sampleRate: 16_000, binCount: 256, range: .unit, precision: .float32)
        }
        #expect(throws: SpectralDiagnosticsError.self) {
            try ChannelAnalyzer(config: .init(), sampleRate: 16_000, binCount: 300, range: .unit, precision: .float32)
        }
    }

    @Test func nonFiniteAndOutOfRangeValuesAreContainmentFailures() throws {
        let codes = Synthetic.codes(count: 8192)
        var values = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: 2))
        values[10] = .nan
        values[20] = .infinity
        values[30] = -.infinity
        values[40] = 1.0
        values[50] = -0.25
        values[60] = values[60] + 1.0 / 65_536  // next bin up
        let r = try Synthetic.analyze(codes: codes, values: values)
        #expect(r.containment.nonFinite == 3)
        #expect(r.containment.outOfRange == 2)
        #expect(r.containment.binLeakage == 1)
        let c = try #require(r.check("containment"))
        #expect(!c.passed && c.value == 6)
        #expect(r.withinBin.count == 8192 - 6)
        #expect(r.noisePSD.density.allSatisfy { $0.isFinite })
        let report = DiagnosticsReport(source: "a.wav", dequantized: nil, sampleRate: 16_000, binCount: 65_536,
                                       range: .unit, config: .init(), channels: [r])
        let json = try report.jsonData()
        let text = String(decoding: json, as: UTF8.self)
        #expect(!text.contains("nan") && !text.contains("inf\""))
    }

    @Test func finishTwiceThrows() throws {
        let a = try ChannelAnalyzer(config: .init(nperseg: 64), sampleRate: 8000, binCount: 256, range: .unit, precision: .float32)
        let codes = [UInt32](repeating: 100, count: 256)
        a.add(codes: codes, values: codes.map { (Double($0) + 0.5) / 256 })
        _ = try a.finish()
        #expect(throws: SpectralDiagnosticsError.alreadyFinished) { try a.finish() }
    }

    @Test func mismatchedCountsAreReportedByFinish() throws {
        let a = try ChannelAnalyzer(config: .init(nperseg: 64), sampleRate: 8000, binCount: 256, range: .unit, precision: .float32)
        let codes = [UInt32](repeating: 100, count: 256)
        a.add(codes: codes, values: codes.map { (Double($0) + 0.5) / 256 })
        a.add(codes: codes, values: [0.5])
        #expect(throws: SpectralDiagnosticsError.countMismatch(codes: 256, values: 1)) { try a.finish() }
    }
}
