import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import AudioDQ

@Suite struct ReportTests {
    @Test func cleanUniformNoisePassesAndWritesJSONAndHTML() throws {
        let dir = try TempDir()
        let r = try CLI.run(["report", fixture("stereo.wav"), "--json", dir.file("r.json"), "--html", dir.file("r.html"), "--check", "--seed", "5"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for name in ["containment", "uniformity", "edge-mass", "tonal-spur", "block-spur", "whiteness", "coherence", "flatness"] {
            #expect(r.stdout.contains(name))
        }
        let obj = try JSONSerialization.jsonObject(with: bytes(dir.file("r.json"))) as! [String: Any]
        #expect(obj["passed"] as? Bool == true)
        let channels = obj["channels"] as! [[String: Any]]
        #expect(channels.count == 2)
        for c in channels {
            let psd = c["noisePSD"] as! [String: Any]
            #expect((psd["frequencyHz"] as! [Double]).count == 513 && (psd["density"] as! [Double]).count == 513)
            let coh = c["coherence"] as! [String: Any]
            #expect((coh["msc"] as! [Double]).count == 513)
            let checks = c["checks"] as! [[String: Any]]
            #expect(checks.map { $0["name"] as! String }.sorted() == ["block-spur", "coherence", "containment", "edge-mass", "flatness", "tonal-spur", "uniformity", "whiteness"])
            for k in checks { #expect(k["value"] is Double && k["limit"] is Double && k["passed"] is Bool) }
        }
        let html = try bytes(dir.file("r.html"))
        let parser = XMLParserProbe(data: html)
        #expect(parser.parse(), "HTML is not well-formed: \(parser.error ?? "")")
        #expect(parser.svgCount >= 5)
    }

    /// Output made elsewhere is checked through --dequantized; bad noise fails --check, naming
    /// the check.
    @Test func badDequantizationFromAnotherToolFailsCheck() throws {
        let dir = try TempDir()
        let source = try readBins(fixture("speech-s16.wav"))
        // "another tool": no noise at all, y = x / K, as raw float32 without a sidecar
        let none = source.bins.map { Float(Double($0) / 65536) }
        try none.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir.file("none.f32"))) }
        let noSidecar = try CLI.run(["report", fixture("speech-s16.wav"), "--dequantized", dir.file("none.f32")])
        #expect(noSidecar.status == 1 && noSidecar.stderr.contains("sidecar"))
        let bad = try CLI.run(["report", fixture("speech-s16.wav"), "--dequantized", dir.file("none.f32"), "--range", "unit", "--check"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("uniformity") && bad.stderr.contains("edge-mass"), "\(bad.stderr)")
        // audiodq's own output of the same file passes
        #expect(try CLI.run(["convert", fixture("speech-s16.wav"), dir.file("good.f32"), "-q"]).status == 0)
        let good = try CLI.run(["report", fixture("speech-s16.wav"), "--dequantized", dir.file("good.f32"), "--check", "-q"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        // non-finite values are findings (containment), not crashes
        var nan = none.map { $0 + Float(0.5 / 65536) }
        nan[100] = .nan
        nan[200] = .infinity
        try nan.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir.file("nan.f32"))) }
        let rn = try CLI.run(["report", fixture("speech-s16.wav"), "--dequantized", dir.file("nan.f32"), "--range", "unit", "--check", "--json", dir.file("nan.json")])
        #expect(rn.status == 1 && rn.stderr.contains("containment"))
        let obj = try JSONSerialization.jsonObject(with: bytes(dir.file("nan.json"))) as! [String: Any]
        let containment = ((obj["channels"] as! [[String: Any]])[0]["containment"] as! [String: Any])
        #expect(containment["nonFinite"] as? Int == 2)
    }

    @Test func mismatchesAndShortFilesAreClearErrors() throws {
        let dir = try TempDir()
        #expect(try CLI.run(["convert", fixture("stereo.wav"), dir.file("st.f32"), "-q"]).status == 0)
        let m = try CLI.run(["report", fixture("speech-s16.wav"), "--dequantized", dir.file("st.f32")])
        #expect(m.status == 1 && m.stderr.contains("st.f32") && m.stderr.contains("channels"), "\(m.stderr)")
        #expect(try CLI.run(["convert", fixture("speech.wav"), dir.file("mu.f32"), "-q"]).status == 0)
        try bytes(dir.file("mu.f32")).dropLast(40).write(to: URL(fileURLWithPath: dir.file("mu.f32")))
        let short = try CLI.run(["report", fixture("speech.wav"), "--dequantized", dir.file("mu.f32")])
        #expect(short.status == 1 && short.stderr.contains("mu.f32") && short.stderr.contains("values"), "\(short.stderr)")
    }

    /// A file shorter than --nperseg (or than any check) is reported, not refused: every check its
    /// length allows runs and decides --check, the others are listed as skipped with the reason.
    @Test(arguments: [(500, 4), (1, 2), (0, 1)])
    func shortFilesRunTheChecksTheirLengthAllows(frames: Int, ran: Int) throws {
        let dir = try TempDir()
        let speech = try readBins(fixture("speech-s16.wav"))
        let path = dir.file("short.wav")
        let w = try CodeWriter(path: path, container: .wav, encoding: .pcm16, sampleRate: speech.sampleRate, channels: 1)
        let bins = Array(speech.bins[10_000..<(10_000 + frames)])
        try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
        let r = try CLI.run(["report", path, "--check", "--json", dir.file("r.json"), "--html", dir.file("r.html")])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("skipped: ch 0 tonal-spur: needs at least 1024 samples (one Welch segment, --nperseg 1024), has \(frames)"), "\(r.stdout)")
        #expect(r.stdout.contains("PASSED: all checks that apply and ran passed, \(8 - ran) skipped as too short"), "\(r.stdout)")
        #expect(r.stdout.contains("only containment could run") == (frames == 0))
        let obj = try JSONSerialization.jsonObject(with: bytes(dir.file("r.json"))) as! [String: Any]
        #expect(obj["passed"] as? Bool == true)
        let checks = (obj["channels"] as! [[String: Any]])[0]["checks"] as! [[String: Any]]
        #expect(checks.filter { $0["skipped"] == nil }.count == ran)
        #expect(checks.filter { $0["skipped"] == nil }.allSatisfy { $0["passed"] as? Bool == true })
        let parser = XMLParserProbe(data: try bytes(dir.file("r.html")))
        #expect(parser.parse(), "HTML is not well-formed: \(parser.error ?? "")")
        // a short file whose values are wrong still fails --check on the checks that ran
        if frames == 500 {
            let zero = bins.map { Float(Double($0) / 65536) }   // w = 0 everywhere: not uniform
            try zero.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: dir.file("zero.f32"))) }
            let bad = try CLI.run(["report", path, "--dequantized", dir.file("zero.f32"), "--range", "unit", "--check", "-q"])
            #expect(bad.status == 1 && bad.stderr.contains("uniformity"), "\(bad.stderr)")
        }
    }

    /// Every --nperseg the analyser handles is accepted (16, 18 and 20 used to pass validation,
    /// then fail with exit 1); anything else is a usage error that says what is allowed.
    @Test func npersegIsCheckedByTheCLI() throws {
        for n in ["16", "18", "20"] {
            let r = try CLI.run(["report", fixture("speech-s16.wav"), "--nperseg", n, "--check", "-q"])
            #expect(r.status == 0, "--nperseg \(n): \(r.status) \(r.stderr)")
        }
        for n in ["0", "-2", "14", "15", "17", "1048578", "4294967296"] {
            let r = try CLI.run(["report", fixture("speech-s16.wav"), "--nperseg=\(n)"])
            #expect(r.status == 64, "--nperseg \(n): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--nperseg must be an even number from 16 to 1048576, got \(n)"), "\(r.stderr)")
        }
    }
}

/// Parses a document as XML and counts <svg> elements.
final class XMLParserProbe: NSObject, XMLParserDelegate {
    let parser: XMLParser
    var svgCount = 0
    var error: String?
    init(data: Data) {
        parser = XMLParser(data: data)
        super.init()
        parser.delegate = self
    }
    func parse() -> Bool { parser.parse() }
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "svg" { svgCount += 1 }
    }
    func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = "\(parseError)" }
}
