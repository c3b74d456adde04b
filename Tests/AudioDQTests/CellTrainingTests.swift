import Foundation
import Testing
@testable import AudioDQ

/// `train`/`eval` in true cells (issue #12): per-file quantizers, mixing announced, the model's
/// input scale recorded and enforced, old model files unchanged.
@Suite(.serialized) struct CellTrainingTests {
    let small = ["--flow-steps", "2", "--hidden", "8", "--segment", "256", "--batch", "2", "--squeeze", "8", "--threads", "1"]

    /// A 16-bit WAV of `n` samples: a two-tone signal, each sample rounded down to a multiple of
    /// 2^k (k = 0: every bit used).
    static func wav16(_ path: String, stepLog2 k: Int, n: Int = 4000) throws {
        let bins: [UInt32] = (0..<n).map { i in
            let x = 9000 * sin(Double(i) * 0.031) + 3000 * sin(Double(i) * 0.47) + Double(i % 7)
            let v = (Int(x.rounded(.down)) >> k) << k
            return UInt32(v + 32768)
        }
        let w = try CodeWriter(path: path, container: .wav, encoding: .pcm16, sampleRate: 8000, channels: 1)
        try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
    }

    /// An 8-bit recording in a 16-bit container next to a full 16-bit file: one corpus, a note per
    /// non-container quantizer and a warning naming both files; each sequence keeps its own file's cells, so
    /// its width term is its own (−T·log 256 on the lattice, −T·log 65536 in full 16-bit).
    @Test func mixedCorpusWarnsAndKeepsEachFilesCells() throws {
        let dir = try TempDir()
        let coarse = dir.file("coarse.wav"), full = dir.file("full.wav")
        try Self.wav16(coarse, stepLog2: 8)
        try Self.wav16(full, stepLog2: 0)
        let diags = DiagnosticLog()
        let (corpus, _) = try CorpusLoader.load([coarse, full], diagnostics: diags.sink)
        #expect(corpus.sequences.map { corpus.quantizer(of: $0) } == [try .lattice(.pcm16, stepLog2: 8), .container(.pcm16)])
        #expect(corpus.input == FlowInput(domain: .linear, scaleSize: 65536, law: nil))
        let warnings = diags.all.filter { $0.severity == .warning(action: "mixing") }
        #expect(warnings.count == 1)
        #expect(warnings.first.map { $0.detail.contains(coarse) && $0.detail.contains(full) && $0.detail.contains("lattice:8") } == true)
        let notes = diags.all.filter { $0.severity == .note }   // the lattice only: container cells are today's
        #expect(notes.count == 1 && notes.first?.path == coarse && notes.first.map { $0.detail.contains("lattice:8") } == true)
        let placements = corpus.placements(corpus.sequences)
        for (s, p) in zip(corpus.sequences, placements) {
            let w = s.bins.withUnsafeBufferPointer { p.widthTerm($0) }
            let k = s.name == coarse ? 256.0 : 65536.0
            #expect(abs(w - (-Double(s.bins.count) * log(k))) < 1e-9 * abs(w), "\(s.name)")
        }
        // the CLI trains on it, the warning on stderr names both files, the model records both
        let model = dir.file("m.dqm")
        let r = try CLI.run(["train", coarse, full, "--model", model, "--steps", "2", "-q"] + small)
        #expect(r.status == 0, "\(r.stderr)")
        let line = r.stderr.split(separator: "\n").first { $0.hasPrefix("audiodq: warning: mixing") }
        #expect(line.map { $0.contains(coarse) && $0.contains(full) } == true, "\(r.stderr)")
        let m = try DequantModel.load(path: model)
        #expect(m.trainedOn == ["lattice:8.pcm_16": 1, "container.pcm_16": 1])
        #expect(m.input == FlowInput(domain: .linear, scaleSize: 65536, law: nil) && m.input.scaleSize == 65536)
        // eval reports each file's quantizer and width share
        let e = try CLI.run(["eval", coarse, full, "--model", model, "--threads", "1", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any]
        let files = json["files"] as! [[String: Any]]
        #expect(files.map { $0["quantizer"] as! String } == ["lattice:8", "container"])
        #expect(files.map { $0["widthBitsPerSample"] as! Double }.map { ($0 * 1e9).rounded() / 1e9 } == [8, 16])
    }

    /// The linear domain is one scale whatever S: 8-bit PCM, the same codes on a 2^8 lattice in
    /// 16 bits and G.711 in the linear domain train together (each file in its own cells, the
    /// model recording each), and a model of the 16-bit lattice file scores the 8-bit file with the
    /// same bits per sample, to the bit (same codes: same v and W). Refused before ("one model
    /// serves one input scale"; eval: "model is for K = 65536, data has K = 256").
    @Test func linearPCMOfAnyBitDepthIsOneScale() throws {
        let dir = try TempDir()
        let (_, wav16, wav8) = try QuantizerConvertTests.eightBitAudio(dir)
        let mixed = dir.file("mixed.dqm")
        let r = try CLI.run(["train", wav8, wav16, fixture("speech.wav"), "--domain", "linear", "--model", mixed, "--steps", "2", "-q"] + small)
        #expect(r.status == 0, "\(r.stderr)")
        let m = try DequantModel.load(path: mixed)
        #expect(m.trainedOn == ["container.pcm_u8": 1, "lattice:8.pcm_16": 1, "mulaw.ulaw": 1])
        #expect(m.input.domain == .linear && m.input.scaleSize == 256 && m.encoding == .pcmU8)
        // a model of the lattice file only scores the 8-bit file as it scores the lattice file
        let lattice = dir.file("lattice16.dqm")
        #expect(try CLI.run(["train", wav16, "--model", lattice, "--steps", "3", "-q"] + small).status == 0)
        func eval(_ file: String, _ model: String) throws -> [String: Any] {
            let e = try CLI.run(["eval", file, "--model", model, "--threads", "1", "--json"])
            #expect(e.status == 0, "\(e.stderr)")
            return try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any] ?? [:]
        }
        let e8 = try eval(wav8, lattice), e16 = try eval(wav16, lattice)
        #expect(e8["elboBitsPerSample"] as? Double == e16["elboBitsPerSample"] as? Double, "\(e8) \(e16)")
        #expect(e8["widthBitsPerSample"] as? Double == 8 && e16["widthBitsPerSample"] as? Double == 8)
        #expect((e8["files"] as? [[String: Any]])?.first?["quantizer"] as? String == "container")
        // and the mixed model takes either file, and the full 16-bit fixture
        for f in [wav8, wav16, fixture("speech-s16.wav")] { _ = try eval(f, mixed) }
        // variational noise from a model trained on the 8-bit file and the lattice file converts both
        let v = dir.file("v.dqm")
        #expect(try CLI.run(["train", wav16, wav8, "--model", v, "--method", "variational", "--steps", "2", "-q"] + small).status == 0)
        for f in [wav8, wav16] {
            let c = try CLI.run(["convert", f, dir.file(URL(fileURLWithPath: f).lastPathComponent + ".f32"), "--method", "variational", "--model", v])
            #expect(c.status == 0, "\(c.stderr)")
        }
        // q trained on the lattice file only is not used in the 8-bit file's one-code cells
        let vl = dir.file("vl.dqm")
        #expect(try CLI.run(["train", wav16, "--model", vl, "--method", "variational", "--steps", "2", "-q"] + small).status == 0)
        let refused = try CLI.run(["convert", wav8, dir.file("refused.f32"), "--method", "variational", "--model", vl])
        #expect(refused.status == 1 && refused.stderr.contains("K = 65536, data has K = 256"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("refused.f32")))
    }

    /// A model trained on μ-law bytes in the linear domain refuses them in the code domain, and
    /// a code-domain model refuses the linear domain: exit 1, one line, kind `.model`.
    @Test func evalRefusesTheOtherDomain() throws {
        let dir = try TempDir()
        let data = fixture("speech.wav")   // G.711 mu-law
        let linear = dir.file("linear.dqm"), code = dir.file("code.dqm")
        #expect(try CLI.run(["train", data, "--model", linear, "--domain", "linear", "--steps", "2", "-q"] + small).status == 0)
        #expect(try CLI.run(["train", data, "--model", code, "--steps", "2", "-q"] + small).status == 0)
        #expect(try DequantModel.load(path: linear).input == FlowInput(domain: .linear, scaleSize: 65536, law: nil))
        #expect(try DequantModel.load(path: linear).input.scaleSize == 65536)
        #expect(try DequantModel.load(path: code).input == .container(.ulaw))
        for (model, domain) in [(linear, "code"), (code, "linear")] {
            let r = try CLI.run(["eval", data, "--model", model, "--domain", domain, "--threads", "1"])
            let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("audiodq: note:") }
            #expect(r.status == 1 && lines.count == 1 && r.stdout.isEmpty, "\(r.stderr)")
            #expect(lines.first.map { $0.hasPrefix("audiodq: error: \(model): model was trained in the ") } == true, "\(r.stderr)")
            var options = EvalOptions(data: [data], modelPath: model)
            options.domain = ValueDomain(rawValue: domain)!
            #expect { try EvalFrontend.run(options, diagnostics: DiagnosticLog().sink) } throws: { error in
                guard case DequantizationError.inputMismatch = error else { return false }
                return Diagnostic(error).kind == .model
            }
        }
        // the linear-domain model scores the same codes in the linear domain
        #expect(try CLI.run(["eval", data, "--model", linear, "--domain", "linear", "--threads", "1"]).status == 0)
        // and `sample` maps its v (on the 16-bit linear scale) to the law's decision intervals
        let out = dir.file("s.wav")
        #expect(try CLI.run(["sample", "--model", linear, "--seconds", "0.25", "--seed", "3", out]).status == 0)
        let m = try DequantModel.load(path: linear)
        try BLAS.ensureLoaded()
        let v = try m.flow.sample(batch: 1, length: 2000, temperature: 1, seed: 3)
        let cells = G711Cells.of(.ulaw)
        let expected = v.map { y -> UInt32 in
            let t = min(max(((Double(y) + 0.5) * 65536).rounded(.down), 0), 65535)
            return UInt32(cells.binOfValue[Int(t)])
        }
        let written = try readBins(out)
        #expect(written.encoding == .ulaw && written.bins == expected)
    }

    /// A model trained on container cells is the file the code before cells wrote, byte for byte
    /// (SHA-256 and bits/sample recorded with the previous build: μ-law uniform and variational,
    /// 16-bit uniform, same flags; `--average 0` since the default preset averages the weights),
    /// and such a file (no input fields) loads as container/code domain.
    @Test func containerModelsAreUnchangedAndLoadAsBefore() throws {
        let dir = try TempDir()
        let base = ["--average", "0", "--steps", "3", "-q", "--segment", "256", "--batch", "2", "--hidden", "8", "--flow-steps", "2", "--squeeze", "8", "--threads", "1"]
        let cases: [(data: String, extra: [String], sha: String, elbo: Double, iwbo: Double?)] = [
            ("speech.wav", [], "1ef0205722aaa4dce92bda958cd7de6d314e94a7db1d2ad1d86886208286a57f", 7.806582019984888, 7.806145577559033),
            ("speech.wav", ["--method", "variational", "--q-hidden", "8", "--q-layers", "2"],
             "e37b2a3052f58a6886703e9079f79b3235037dc3fc04858f65f91f7bdf186af5", 7.804781597691327, 7.804671735898552),
            ("speech-s16.wav", [], "b087c89eeabdaa045b52a707c6ee741e988a432394fd942ffe5809c93dbc3e6a", 19.88927980390793, nil),
        ]
        for (i, c) in cases.enumerated() {
            let model = dir.file("m\(i).dqm")
            let r = try CLI.run(["train", fixture(c.data), "--model", model] + base + c.extra)
            #expect(r.status == 0, "\(r.stderr)")
            var sha = SourceHash()
            try bytes(model).withUnsafeBytes { sha.update($0) }
            #expect(sha.finalizeHex() == c.sha, "\(c.data) \(c.extra)")
            let m = try DequantModel.load(path: model)
            #expect(m.input == .container(m.encoding) && m.trainedOn.isEmpty)
            #expect(try Checkpoint.read(from: model).architecture.keys.allSatisfy { !$0.hasPrefix("input.") && !$0.hasPrefix("trainedOn.") })
            var options = EvalOptions(data: [fixture(c.data)], modelPath: model)
            options.threads = 1
            options.importanceSamples = c.iwbo == nil ? 0 : 2
            let e = try EvalFrontend.run(options, diagnostics: DiagnosticLog().sink)
            #expect(e.elboBitsPerSample == c.elbo && e.iwboBitsPerSample == c.iwbo, "\(c.data) \(c.extra)")
        }
    }
}

/// `--help` and `help SUBCOMMAND` print argument-parser's help and exit 0 (they reached the
/// error line "audiodq: error: CommandError(...)" with exit 1), listing the quantizer options.
struct HelpTests {
    @Test func helpPrintsUsageAndExitsZero() throws {
        let root = try CLI.run(["--help"])
        #expect(root.status == 0 && root.stdout.contains("OVERVIEW:") && root.stderr.isEmpty, "\(root.stderr)")
        for args in [["train", "--help"], ["help", "eval"]] {
            let r = try CLI.run(args)
            #expect(r.status == 0 && r.stdout.contains("--quantizer") && r.stdout.contains("--domain"), "\(args) \(r.stderr)")
        }
    }
}
