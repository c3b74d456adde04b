import Foundation
import Testing
@testable import AudioDQ

/// "Up to date" is one comparison (issue #11): a batch output is skipped exactly when its
/// sidecar reads back as the value resolved for this run (`Sidecar.resolved` ==
/// `DequantSettings.resolve`) and the file has the size that implies. Each case converts a small
/// corpus, changes one resolved field in one sidecar, and re-runs: that file is redone (and comes
/// out as before), the other is skipped.
@Suite(.serialized) struct UpToDateTests {
    /// One resolved field and how a sidecar is edited to differ in it alone.
    enum Field: String, CaseIterable, CustomTestStringConvertible {
        case sourceSHA256, raw, format, range, dtype, seed, stream, method, modelSHA256, uVariant, generator
        var testDescription: String { rawValue }

        /// The file of the corpus whose sidecar is edited.
        var edited: String { self == .raw ? "take" : "speech" }
        var variational: Bool { self == .modelSHA256 }

        func edit(_ sc: inout [String: Any]) {
            var source = sc["source"] as! [String: Any]
            var output = sc["output"] as! [String: Any]
            var d = sc["dequantization"] as! [String: Any]
            let other = String(repeating: "0", count: 64)
            switch self {
            case .sourceSHA256:
                // the default stream is named by the hash: both move, the stream stays "the source's"
                source["sha256"] = other
                d["streamName"] = other
            case .raw: source["raw"] = "pcm_16:8000:1:le"
            case .format: output["format"] = "npy"
            case .range: d["range"] = "symmetric"
            case .dtype: output["dtype"] = "float64"
            case .seed: d["seed"] = 1
            case .stream:
                d["streamName"] = "another-name"
                d.removeValue(forKey: "streamSource")
            case .method: d["method"] = "variational"
            case .modelSHA256: d["modelSHA256"] = other
            case .uVariant: d["uVariant"] = Sidecar.uVariantFloat64
            case .generator: d["generator"] = "another-generator"
            }
            sc["source"] = source
            sc["output"] = output
            sc["dequantization"] = d
        }
    }

    /// A corpus of a file with a header and a headerless one (read with --raw).
    func corpus(_ dir: TempDir) throws -> String {
        let input = dir.file("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("speech-u8.wav"), toPath: input + "/speech.wav")
        try FileManager.default.copyItem(atPath: fixture("speech-u8.wav"), toPath: input + "/take.raw")
        return input
    }

    func options(_ input: String, _ out: String, variational: Bool, model: String = GoldenOutputTests.model) -> BatchOptions {
        var options = BatchOptions(input: input, outputDir: out)
        options.settings.raw = RawFormat(encoding: .pcmU8, sampleRate: 8000, channels: 1)
        if variational {
            options.settings.method = .variational
            options.settings.modelPath = model
        }
        return options
    }

    /// Status per relative path of a run.
    func run(_ options: BatchOptions) throws -> [String: BatchRecord.Status] {
        let s = try BatchConverter.run(options)
        return Dictionary(uniqueKeysWithValues: s.records.map { ($0.relative, $0.status) })
    }

    @Test(arguments: Field.allCases) func aSidecarDifferingInOneResolvedFieldIsRedone(_ field: Field) throws {
        let dir = try TempDir()
        let input = try corpus(dir), out = dir.file("out")
        let options = options(input, out, variational: field.variational)
        #expect(try run(options) == ["speech.wav": .ok, "take.raw": .ok])
        let data = out + "/" + field.edited + ".f32"
        let before = try bytes(data), sidecarBefore = try bytes(Sidecar.path(for: data))
        #expect(try run(options) == ["speech.wav": .skipped, "take.raw": .skipped])

        var sc = try JSONSerialization.jsonObject(with: sidecarBefore) as! [String: Any]
        field.edit(&sc)
        let edited = try JSONSerialization.data(withJSONObject: sc, options: [.sortedKeys])
        try edited.write(to: URL(fileURLWithPath: Sidecar.path(for: data)))
        let decoded = try Sidecar.decode(edited, path: "edited").resolved
        let original = try Sidecar.decode(sidecarBefore, path: "before").resolved
        #expect(decoded != nil && decoded != original)

        let again = try run(options)
        let other = field.edited == "take" ? "speech.wav" : "take.raw"
        #expect(again[field.edited == "take" ? "take.raw" : "speech.wav"] == .ok, "\(again)")
        #expect(again[other] == .skipped, "\(again)")
        // the same settings, the same bytes: the redone output and its sidecar are as first written
        #expect(try bytes(data) == before)
        #expect(try bytes(Sidecar.path(for: data)) == sidecarBefore)
    }

    /// The model is identified by its bytes: the same model under another path is the same model
    /// (outputs stay up to date), as is a sidecar written before `uVariant` existed.
    @Test func theSameModelElsewhereAndAnOlderSidecarStayUpToDate() throws {
        let dir = try TempDir()
        let input = try corpus(dir), out = dir.file("out")
        #expect(try run(options(input, out, variational: true)) == ["speech.wav": .ok, "take.raw": .ok])
        let moved = dir.file("moved.dqm")
        try FileManager.default.copyItem(atPath: GoldenOutputTests.model, toPath: moved)
        #expect(try run(options(input, out, variational: true, model: moved)) == ["speech.wav": .skipped, "take.raw": .skipped])

        let uniform = dir.file("uniform")
        #expect(try run(options(input, uniform, variational: false)) == ["speech.wav": .ok, "take.raw": .ok])
        let path = Sidecar.path(for: uniform + "/speech.f32")
        var sc = try JSONSerialization.jsonObject(with: bytes(path)) as! [String: Any]
        var d = sc["dequantization"] as! [String: Any]
        d.removeValue(forKey: "uVariant")
        sc["dequantization"] = d
        try JSONSerialization.data(withJSONObject: sc).write(to: URL(fileURLWithPath: path))
        #expect(try run(options(input, uniform, variational: false)) == ["speech.wav": .skipped, "take.raw": .skipped])
    }

    /// A stream name would give every file of a corpus the same noise: batch mode refuses it
    /// (it used to be ignored), as a usage error on the command line.
    @Test func batchModeRefusesAStreamName() throws {
        let dir = try TempDir()
        let input = try corpus(dir)
        var options = options(input, dir.file("out"), variational: false)
        options.settings.streamName = "k"
        #expect(throws: AudioDQError.self) { try BatchConverter.run(options) }
        let r = try CLI.run(["convert", input, dir.file("cli"), "--key", "k", "--raw", "u8:8000:1"])
        #expect(r.status == 64 && r.stderr.contains("--key"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("cli")))
    }
}
