import DiscreteAudio
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import SpectralDiagnostics

/// Channels too short for some checks: every check the length allows runs, the others are listed
/// as skipped with their reason and left out of the verdict.
@Suite struct ShortChannelTests {
    /// (samples, checks expected to run) with the default config (nperseg 1024, 20 lags, scan
    /// B ≥ 256): uniformity from 1 sample, edge-mass from 160 (N·p₀ ≥ 5), whiteness from 500
    /// (25 per lag), tonal-spur/flatness/block-spur from one Welch segment (1024), coherence from
    /// two (1536).
    static let cases: [(Int, [String])] = [
        (0, ["containment"]),
        (1, ["containment", "uniformity"]),
        (159, ["containment", "uniformity"]),
        (160, ["containment", "uniformity", "edge-mass"]),
        (500, ["containment", "uniformity", "edge-mass", "whiteness"]),
        (1100, ["containment", "uniformity", "edge-mass", "tonal-spur", "block-spur", "whiteness", "flatness"]),
        (1536, CheckResult.allNames),
    ]

    @Test(arguments: cases)
    func shortChannelRunsWhatItsLengthAllows(samples: Int, expected: [String]) throws {
        let codes = Synthetic.codes(count: samples)
        let values = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: 21))
        let r = try Synthetic.analyze(codes: codes, values: values)
        #expect(r.samples == samples)
        #expect(r.checks.map(\.name) == CheckResult.allNames)
        #expect(r.checks.filter(\.ran).map(\.name) == expected)
        for c in r.checks where c.ran {
            #expect(c.passed, "\(c.name) \(c.value) vs \(c.limit) on clean noise, \(samples) samples")
        }
        for c in r.checks where !c.ran {
            let reason = try #require(c.skipped)
            #expect(reason.contains("needs") || reason == "no samples", "\(c.name): \(reason)")
            #expect(reason.contains("has \(samples)") || samples == 0)
            #expect(!c.passed && c.value == 0 && c.limit == 0 && c.detail == reason)
        }
        #expect(r.passed, "clean noise: the checks that ran decide the verdict")
        #expect(r.noisePSD.frequencyHz.isEmpty == (samples < 1024))

        // JSON: numeric, `skipped` only on the checks that did not run, and the report verdict
        let report = DiagnosticsReport(source: "short.wav", dequantized: nil, sampleRate: Synthetic.sampleRate,
                                       binCount: Synthetic.binCount, range: .unit, config: .init(), channels: [r])
        #expect(report.passed)
        let text = String(decoding: try report.jsonData(), as: UTF8.self)
        #expect(!text.contains("nan") && !text.contains("\"inf"))
        let obj = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let checks = (obj["channels"] as! [[String: Any]])[0]["checks"] as! [[String: Any]]
        for c in checks {
            #expect((c["skipped"] != nil) == !expected.contains(c["name"] as! String))
        }

        // terminal table and HTML name every skipped check
        let summary = report.terminalSummary()
        for c in r.checks where !c.ran {
            #expect(summary.contains("skipped: ch 0 \(c.name): \(c.skipped!)"), "\(summary)")
        }
        #expect(summary.contains("SKIP") == (expected.count < 8))
        #expect(summary.contains("only containment could run") == (expected == ["containment"]))
        let html = report.html()
        #expect(html.contains("plots omitted") == (samples < 1024))
        #expect(html.contains("id=\"ch0-noise-psd\"") == (samples >= 1024))
        #expect(html.contains("id=\"ch0-histogram\"") == (samples > 0))
        #expect(html.contains(">SKIP<") == (expected.count < 8))
        let parser = XMLParser(data: Data(html.utf8))
        #expect(parser.parse(), "HTML not well-formed")
    }

    /// A check that ran and failed still fails a short channel: the verdict is over the checks
    /// that ran, not "nothing to see".
    @Test func shortChannelStillFailsOnBadValues() throws {
        let codes = Synthetic.codes(count: 500)
        var values = Synthetic.dequantize(codes, noise: { _ in 0 })   // no noise: every w = 0
        values[7] = .nan
        let r = try Synthetic.analyze(codes: codes, values: values)
        #expect(!r.passed)
        #expect(r.check("containment")?.passed == false && r.check("uniformity")?.passed == false)
        #expect(r.check("edge-mass")?.passed == false)
        let report = DiagnosticsReport(source: "short.wav", dequantized: nil, sampleRate: Synthetic.sampleRate,
                                       binCount: Synthetic.binCount, range: .unit, config: .init(), channels: [r])
        #expect(report.failedChecks.map(\.check.name) == ["containment", "uniformity", "edge-mass"])
        #expect(report.terminalSummary().contains("FAILED: 3 check(s) failed, 4 skipped as too short"))
    }

    /// nperseg 16, 18 and 20 used to pass validation and then fail: the Ljung–Box lag count (20)
    /// had to be below nperseg, although the autocorrelation does not use Welch segments.
    @Test(arguments: [16, 18, 20, 22, 1 << 20])
    func smallAndLargeNpersegWork(nperseg: Int) throws {
        let config = DiagnosticsConfig(nperseg: nperseg)
        try config.validate()
        let n = nperseg < 1024 ? 1 << 15 : nperseg
        let codes = Synthetic.codes(count: n)
        let values = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: 3))
        let r = try Synthetic.analyze(codes: codes, values: values, config: config)
        #expect(r.noisePSD.frequencyHz.count == (n >= nperseg ? nperseg / 2 + 1 : 0))
        if nperseg < 1024 {
            #expect(r.checks.allSatisfy { $0.ran && $0.passed }, "\(r.checks.filter { !$0.passed }.map(\.name))")
        }
    }

    @Test(arguments: [-2, 0, 2, 14, 15, 17, 1021, (1 << 20) + 2, 1 << 21, Int.max])
    func invalidNpersegIsRefusedWithTheRule(nperseg: Int) {
        #expect(!DiagnosticsConfig.isValidNperseg(nperseg))
        #expect(throws: SpectralDiagnosticsError.invalidConfig(field: "nperseg", value: "\(nperseg)",
                                                            requirement: "an even number from 16 to 1048576")) {
            try DiagnosticsConfig(nperseg: nperseg).validate()
        }
    }
}
