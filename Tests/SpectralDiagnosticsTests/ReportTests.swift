import DiscreteAudio
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import SpectralDiagnostics

@Suite struct ReportTests {
    /// Two channels: clean uniform noise, and noise with a faint tone (fails tonal-spur).
    static func sampleReport() throws -> DiagnosticsReport {
        let codes = Synthetic.codes(count: 1 << 15)
        let clean = Synthetic.dequantize(codes, noise: Synthetic.uniformNoise(seed: 21))
        let r = Synthetic.uniformNoise(seed: 22)
        let tone = Synthetic.dequantize(codes) { t in 0.05 + 0.9 * r(t) + 0.05 * sin(2 * Double.pi * 3000 * Double(t) / Synthetic.sampleRate) }
        let config = DiagnosticsConfig()
        return DiagnosticsReport(
            source: "speech <16-bit> & noise.wav", dequantized: "out.f32.wav", sampleRate: Synthetic.sampleRate,
            binCount: Synthetic.binCount, range: .unit, config: config,
            channels: [try Synthetic.analyze(codes: codes, values: clean), try Synthetic.analyze(codes: codes, values: tone)],
            extra: ["encoding": "pcm_16"])
    }

    @Test func jsonHasTheDocumentedKeys() throws {
        let report = try Self.sampleReport()
        let data = try report.jsonData()
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(root["schema"] as? String == "audiodq.report/1")
        #expect(root["passed"] as? Bool == false)
        let channels = try #require(root["channels"] as? [[String: Any]])
        #expect(channels.count == 2)
        for ch in channels {
            let psd = try #require(ch["noisePSD"] as? [String: Any])
            let f = try #require(psd["frequencyHz"] as? [Double])
            let d = try #require(psd["density"] as? [Double])
            #expect(f.count == 513 && d.count == 513 && f.last == 8000)
            let coh = try #require(ch["coherence"] as? [String: Any])
            #expect((coh["frequencyHz"] as? [Double])?.count == 513)
            #expect((coh["msc"] as? [Double])?.count == 513)
            let checks = try #require(ch["checks"] as? [[String: Any]])
            #expect(checks.compactMap { $0["name"] as? String } == CheckResult.allNames)
            for c in checks {
                #expect(c["passed"] is Bool && c["value"] is Double && c["limit"] is Double)
            }
        }
        // round trip
        let back = try JSONDecoder().decode(DiagnosticsReport.self, from: data)
        #expect(back.channels[1].check("tonal-spur")?.passed == false)
        #expect(report.failedChecks.contains { $0.channel == 1 && $0.check.name == "tonal-spur" })
        #expect(!report.failedChecks.contains { $0.channel == 0 })
    }

    @Test func terminalSummaryHasOneRowPerCheck() throws {
        let report = try Self.sampleReport()
        let text = report.terminalSummary()
        let lines = text.split(separator: "\n")
        let rows = lines.filter { $0.hasSuffix("PASS") || $0.hasSuffix("FAIL") || $0.hasSuffix("n/a") }
        #expect(rows.count == 16)
        #expect(rows.contains { $0.hasPrefix("1") && $0.contains("tonal-spur") && $0.hasSuffix("FAIL") })
        #expect(text.contains("FAILED"))
    }

    final class Collector: NSObject, XMLParserDelegate {
        var ids: [String] = []
        var svgCount = 0
        var error: Error?
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if let id = attributes["id"] { ids.append(id) }
            if elementName == "svg" { svgCount += 1 }
        }
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
    }

    @Test func htmlIsWellFormedAndHasEveryPlot() throws {
        let report = try Self.sampleReport()
        let html = report.html()
        if let out = ProcessInfo.processInfo.environment["AUDIODQ_REPORT_HTML_OUT"] {
            try html.write(toFile: out, atomically: false, encoding: .utf8)
        }
        let parser = XMLParser(data: Data(html.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "XML error: \(String(describing: collector.error ?? parser.parserError))")
        for ch in 0..<2 {
            for plot in ["noise-psd", "histogram", "coherence", "signal-psd", "autocorrelation", "checks"] {
                #expect(collector.ids.contains("ch\(ch)-\(plot)"), "missing ch\(ch)-\(plot)")
            }
        }
        #expect(collector.ids.contains("summary") && collector.ids.contains("verdict"))
        #expect(collector.svgCount == 10)
        #expect(html.contains("name=\"viewport\""))
        #expect(html.contains("speech &lt;16-bit&gt; &amp; noise.wav"))
        #expect(!html.contains("http://") || !html.contains("src=\"http"))  // nothing fetched from the network
        #expect(!html.contains("<script"))
    }
}
