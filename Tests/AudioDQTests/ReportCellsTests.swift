import Foundation
import Testing
@testable import AudioDQ

/// `report` says which cells it judged: on stderr as `convert` announces its quantizer, in the
/// terminal summary, the JSON (`parameters.quantizer`) and the HTML parameters; nothing for
/// container cells (those reports keep their bytes).
@Suite struct ReportCellsTests {
    static func parameters(_ json: String) throws -> [String: Any] {
        let obj = try JSONSerialization.jsonObject(with: bytes(json)) as? [String: Any]
        return try #require(obj?["parameters"] as? [String: Any])
    }

    @Test func aLatticeFileIsAnnouncedAndRecorded() throws {
        let dir = try TempDir()
        let (_, wav16, _) = try QuantizerConvertTests.eightBitAudio(dir)
        let json = dir.file("r.json"), html = dir.file("r.html")
        let r = try CLI.run(["report", wav16, "--json", json, "--html", html])
        #expect(r.status == 0, "\(r.stderr)")
        let name = "lattice 2^8 (8 of 16 bits)", reason = "every sample is a multiple of 2^8"
        #expect(r.stderr.hasPrefix("audiodq: note: \(wav16): quantizer \(name): \(reason)"), "\(r.stderr)")
        #expect(r.stdout.hasPrefix("cells: quantizer \(name): \(reason)"), "\(r.stdout)")
        let q = try #require(try Self.parameters(json)["quantizer"] as? [String: String])
        #expect(q["kind"] == "lattice" && q["name"] == name && q["reason"]?.hasPrefix(reason) == true, "\(q)")
        #expect(String(decoding: try bytes(html), as: UTF8.self).contains(name + ": " + reason))

        // replayed with its sidecar: the sidecar's cells, said so
        let y = dir.file("y.f64")
        _ = try QuantizerConvertTests.convert([wav16, y, "-q"])
        let d = try CLI.run(["report", wav16, "--dequantized", y, "--json", json])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stderr.hasPrefix("audiodq: note: \(wav16): quantizer \(name): the sidecar's (\(reason)"), "\(d.stderr)")
        let dq = try #require(try Self.parameters(json)["quantizer"] as? [String: String])
        #expect(dq["kind"] == "lattice" && dq["reason"]?.hasPrefix("the sidecar's (\(reason)") == true, "\(dq)")
        // -q: nothing on stderr
        #expect(try CLI.run(["report", wav16, "-q"]).stderr.isEmpty)
    }

    @Test func containerCellsAddNothing() throws {
        let dir = try TempDir()
        let json = dir.file("r.json")
        let r = try CLI.run(["report", fixture("speech-s16.wav"), "--json", json])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty, "\(r.stderr)")
        #expect(!r.stdout.contains("cells:"))
        #expect(try Self.parameters(json)["quantizer"] == nil)
    }
}
