import Foundation
import Testing
@testable import AudioDQ
@testable import Dequantization

/// Variational dequantization in true cells (issue #12): `convert`/`report`/batch with
/// `--method variational` draw u from q conditioned as training conditions it for the file's
/// cells (`SequenceCells`), place it into each code's cell as uniform noise is placed
/// (`CellDequantizer.place`), and refuse cells the model was not trained in (`TrainedCells`).
@Suite(.serialized) struct VariationalCellsTests {
    /// A mono μ-law WAV at 8 kHz of `n` samples: the amplitude-ordered bins of a decaying two-tone
    /// (over a hundred distinct cells).
    static func ulaw(_ path: String, n: Int = 4000) throws {
        let bins: [UInt32] = (0..<n).map { i in
            let x = (90 * sin(Double(i) * 0.05) + 30 * sin(Double(i) * 0.61)) * exp(-Double(i) / Double(n))
            return UInt32(128 + Int(x.rounded(.down)))
        }
        let w = try CodeWriter(path: path, container: .wav, encoding: .ulaw, sampleRate: 8000, channels: 1)
        try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
    }

    /// The two kinds of true cells: μ-law bytes in the linear domain (G.711 decision intervals)
    /// and an 8-bit recording in a 16-bit container (the 2^8 lattice, detected).
    enum Case: String, CaseIterable, Sendable {
        case mulawLinear, lattice

        func data(_ dir: TempDir) throws -> String {
            switch self {
            case .mulawLinear: let p = dir.file("mu.wav"); try VariationalCellsTests.ulaw(p); return p
            case .lattice: let p = dir.file("x256.wav"); try CellTrainingTests.wav16(p, stepLog2: 8); return p
            }
        }
        /// The flags that choose the cells, in `train` and `convert` alike.
        var cells: [String] { self == .mulawLinear ? ["--domain", "linear"] : [] }
        var quantizer: Quantizer {
            get throws { self == .mulawLinear ? try .g711Linear(.ulaw, container: .ulaw) : try .lattice(.pcm16, stepLog2: 8) }
        }
    }

    static func train(_ data: String, _ model: String, _ extra: [String]) throws {
        let r = try CLI.run(["train", data, "--model", model, "--method", "variational", "--steps", "8", "-q"] + VariationalTests.small + extra)
        #expect(r.status == 0, "\(r.stderr)")
    }

    static func values(_ path: String) throws -> [Double] {
        let reader = try ValueReader(path: path, channels: 1)
        var v = [Double](repeating: 0, count: reader.count)
        _ = try v.withUnsafeMutableBufferPointer { try reader.read(into: $0) }
        return v
    }

    /// What q gives a mono file shorter than one core (one window: the whole file), computed from
    /// the model without the streaming code: ε as the dequantizer draws it, in q's (even, odd)
    /// layout, the condition of `SequenceCells` (training's), q's u and total log q (nats).
    /// `bins` are channel `channel` of `channels` (ε of frame j is the one of interleaved index
    /// j·channels + channel).
    static func qOutput(model: String, quantizer: Quantizer, bins: [UInt32], key: NoiseKey,
                        channel: Int = 0, channels: Int = 1) throws -> (u: [Float], logQ: Double) {
        let m = try DequantModel.load(path: model)
        let v = try VariationalDequantizer(model: m, quantizer: quantizer, range: .unit, key: key, channels: channels, threads: 1)
        let n = bins.count
        precondition(n % 2 == 0 && n < VariationalDequantizer.core)
        var eps = [Float](repeating: 0, count: n), c = eps, u = eps, lq: [Float] = [0]
        for j in 0..<n { eps[(j & 1) * (n / 2) + j / 2] = v.eps(j * channels + channel) }
        bins.withUnsafeBufferPointer { b in c.withUnsafeMutableBufferPointer { SequenceCells(quantizer).condition(b.baseAddress!, count: n, into: $0.baseAddress!) } }
        try m.noise!.forward(eps: eps, condition: c, batch: 1, length: n, u: &u, logq: &lq)
        return (u, Double(lq[0]))
    }

    /// Every value lies in its code's true cell and is exactly q's u placed as uniform noise is
    /// (float64: u itself; float32: u rounded to 24 bits), in both ranges, and (unit, float64) the
    /// point the training transform places for the same u, v = y − ½; the sidecar's and the
    /// log q file's totals are q's log q of those draws; `restore` gives the codes back bit for
    /// bit; the bytes do not depend on --threads, --chunk-frames or batch/--jobs/--shard, and
    /// differ from uniform noise in the same cells.
    @Test(arguments: Case.allCases)
    func convertPlacesQsNoiseInTheTrueCells(_ c: Case) throws {
        let dir = try TempDir(), data = try c.data(dir), model = dir.file("m.dqm")
        try Self.train(data, model, c.cells)
        let q = try c.quantizer
        let bins = try readBins(data).bins
        let cellOf = try bins.map { try #require(q.cell(ofBin: Int($0))) }
        let key = NoiseKey(seed: 0, name: "k")
        let (u, logQ) = try Self.qOutput(model: model, quantizer: q, bins: bins, key: key)
        for range in [DequantRange.unit, .symmetric] {
            for ext in ["f32", "f64"] {
                let out = dir.file("y-\(range.rawValue).\(ext)")
                let r = try CLI.run(["convert", data, out, "--method", "variational", "--model", model, "--key", "k",
                                     "--range", range.rawValue, "--threads", "2", "--log-q", out + ".lq"] + c.cells)
                #expect(r.status == 0, "\(r.stderr)")
                let y = try Self.values(out)
                #expect(y.count == bins.count)
                #expect(zip(y, cellOf).allSatisfy { q.cell(ofY: $0, range: range) == $1 }, "\(c) \(range) \(ext): a value left its cell")
                let expected: [Double] = zip(u, cellOf).map { ui, j in
                    ext == "f64" ? q.y(ofCell: j, u: Double(ui), range: range, as: Double.self)
                                 : Double(q.y(ofCell: j, u: Double(CellDequantizer.u24(ui)) * 0x1p-24, range: range, as: Float.self))
                }
                #expect(y == expected, "\(c) \(range) \(ext): not q's u in the cell")
                if range == .unit && ext == "f64" {
                    // the point the training transform places for these u: v = y − ½ (`SequenceCells.place`)
                    var v = [Float](repeating: 0, count: bins.count)
                    bins.withUnsafeBufferPointer { b in
                        SequenceCells(q).place(b.baseAddress!, u: u, count: bins.count, v: &v, dvdu: nil)
                    }
                    #expect(zip(y, v).allSatisfy { abs(($0 - 0.5) - Double($1)) < 1e-6 }, "\(c): not training's v")
                }
                let sc = try Sidecar.load(path: out + ".json")
                #expect(sc.dequantization.method == "variational" && sc.resolved?.quantizer == q)
                #expect(sc.dequantization.uVariant == (ext == "f32" ? Sidecar.uVariantLearned24 : Sidecar.uVariantLearned))
                let total = try bytes(out + ".lq").withUnsafeBytes { $0.bindMemory(to: Float.self).reduce(0.0) { $0 + Double($1) } }
                let recorded = try #require(sc.dequantization.logQTotalNats)
                #expect(abs(total - recorded) < 1e-6 * max(1, abs(total)))
                #expect(abs(recorded - logQ) < 1e-3 * max(1, abs(logQ)), "log q \(recorded), q's own \(logQ)")
                let back = dir.file("back-\(range.rawValue)-\(ext).wav")
                let rr = try CLI.run(["restore", out, back])
                #expect(rr.status == 0, "\(rr.stderr)")
                #expect(try readBins(back).bins == bins, "\(c) \(range) \(ext)")
            }
        }
        // determinism: threads, chunk size, batch (one job or two, a shard)
        let reference = try bytes(dir.file("y-unit.f32"))
        for args in [["--threads", "1", "--chunk-frames", "1000"], ["--threads", "2", "--chunk-frames", "999"]] {
            let out = dir.file("t\(args.joined()).f32")
            let r = try CLI.run(["convert", data, out, "--method", "variational", "--model", model, "--key", "k"] + c.cells + args)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try bytes(out) == reference, "\(args)")
        }
        let corpus = dir.file("corpus")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: data, toPath: corpus + "/a.wav")
        _ = try QuantizerConvertTests.convert([data, dir.file("single.f32"), "--method", "variational", "--model", model] + c.cells)
        for args in [["--jobs", "1"], ["--jobs", "2", "--shard", "0/1"]] {
            let out = dir.file("batch\(args.joined())")
            _ = try QuantizerConvertTests.convert([corpus, out, "--method", "variational", "--model", model] + c.cells + args)
            #expect(try bytes(out + "/a.f32") == bytes(dir.file("single.f32")), "\(args)")
            #expect(try manifest(out + "/manifest-\(args.count > 2 ? "0-of-1" : "all").jsonl").map(\.status) == [.ok])
        }
        // and the noise is q's, not uniform noise in the same cells
        _ = try QuantizerConvertTests.convert([data, dir.file("uniform.f32"), "--key", "k"] + c.cells)
        #expect(try bytes(dir.file("uniform.f32")) != reference)
    }

    /// A stereo μ-law file in the linear domain: each channel is q's own sequence (its ε at the
    /// interleaved indices, training's condition of its codes), every value in its code's cell,
    /// `restore` bit for bit, the same bytes with 1 or 2 threads.
    @Test func stereoChannelsAreEachQsSequence() throws {
        let dir = try TempDir(), mono = try Case.mulawLinear.data(dir), model = dir.file("m.dqm")
        try Self.train(mono, model, ["--domain", "linear"])
        let left = try readBins(mono).bins, right = left.reversed().map { 255 - $0 }
        let input = dir.file("stereo.wav")
        let w = try CodeWriter(path: input, container: .wav, encoding: .ulaw, sampleRate: 8000, channels: 2)
        let interleaved = zip(left, right).flatMap { [$0, $1] }
        try interleaved.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
        let q = try Case.mulawLinear.quantizer
        var outputs: [Data] = []
        for threads in ["1", "2"] {
            let out = dir.file("y\(threads).f64")
            _ = try QuantizerConvertTests.convert([input, out, "--method", "variational", "--model", model, "--key", "k",
                                                   "--domain", "linear", "--threads", threads])
            outputs.append(try bytes(out))
        }
        #expect(outputs[0] == outputs[1])
        let reader = try ValueReader(path: dir.file("y1.f64"), channels: 2)
        var y = [Double](repeating: 0, count: reader.count)
        _ = try y.withUnsafeMutableBufferPointer { try reader.read(into: $0) }
        for (ch, bins) in [left, right].enumerated() {
            let (u, _) = try Self.qOutput(model: model, quantizer: q, bins: bins, key: NoiseKey(seed: 0, name: "k"), channel: ch, channels: 2)
            let expected = try zip(u, bins).map { ui, b in q.y(ofCell: try #require(q.cell(ofBin: Int(b))), u: Double(ui), range: .unit, as: Double.self) }
            #expect(stride(from: ch, to: y.count, by: 2).map { y[$0] } == expected, "channel \(ch)")
        }
        let back = dir.file("back.wav")
        #expect(try CLI.run(["restore", dir.file("y1.f64"), back]).status == 0)
        #expect(try readBins(back).bins == interleaved)
    }

    /// `report --method variational` dequantizes in the true cells and its containment check
    /// judges them (it passes).
    @Test func reportJudgesVariationalNoiseInTheTrueCells() throws {
        let dir = try TempDir(), data = try Case.lattice.data(dir), model = dir.file("m.dqm")
        try Self.train(data, model, [])
        let r = try CLI.run(["report", data, "--method", "variational", "--model", model, "--json", dir.file("r.json"), "-q"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: bytes(dir.file("r.json"))) as! [String: Any]
        let checks = (obj["channels"] as! [[String: Any]])[0]["checks"] as! [[String: Any]]
        let containment = try #require(checks.first { $0["name"] as? String == "containment" })
        #expect(containment["applies"] as? Bool == true && containment["passed"] as? Bool == true, "\(containment)")
    }

    /// Cells q was not trained in are refused before anything is written: exit 1, one line naming
    /// the file, the model and both cells with their domains (a code-domain model in the linear
    /// domain and back; container-cell training on a detected lattice and back), in a batch as
    /// that file's failure. The cells it was trained in still convert.
    @Test func cellsQWasNotTrainedInAreRefused() throws {
        let dir = try TempDir()
        let mu = try Case.mulawLinear.data(dir), lattice = try Case.lattice.data(dir), full = dir.file("full.wav")
        try CellTrainingTests.wav16(full, stepLog2: 0)
        let code = dir.file("code.dqm"), linear = dir.file("linear.dqm"), container = dir.file("c16.dqm"), coarse = dir.file("l8.dqm")
        try Self.train(mu, code, [])
        try Self.train(mu, linear, ["--domain", "linear"])
        try Self.train(full, container, [])
        try Self.train(lattice, coarse, [])
        let cases: [(data: String, model: String, args: [String], trained: String, file: String)] = [
            (mu, code, ["--domain", "linear"], "container of G.711 mu-law in the code domain of G.711 mu-law (K = 256)",
             "mulaw of G.711 mu-law (G.711 mu-law codes, linear domain: the law's decision intervals) in the linear domain (S = 65536)"),
            (mu, linear, [], "mulaw of G.711 mu-law in the linear domain (S = 65536)",
             "container of G.711 mu-law (G.711 mu-law codes, code domain) in the code domain of G.711 mu-law (K = 256)"),
            (lattice, container, [], "container of PCM signed 16-bit in the linear domain (S = 65536)", "lattice:8 of PCM signed 16-bit ("),
            (full, coarse, [], "lattice:8 of PCM signed 16-bit in the linear domain (S = 65536)", "container of PCM signed 16-bit ("),
        ]
        for c in cases {
            let out = dir.file("o.f32")
            let r = try CLI.run(["convert", c.data, out, "--method", "variational", "--model", c.model] + c.args)
            let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("audiodq: note:") }
            #expect(r.status == 1 && lines.count == 1, "\(r.stderr)")
            let line = String(lines.first ?? "")
            #expect(line.hasPrefix("audiodq: error: \(c.data): model \(c.model) was trained on \(c.trained); this file's cells are \(c.file)"), "\(line)")
            #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".json"))
            // the library's error, kind model
            var settings = DequantSettings()
            settings.method = .variational
            settings.modelPath = c.model
            settings.domain = c.args.isEmpty ? .code : .linear
            #expect { try Converter.run(ConvertOptions(input: c.data, output: out, settings: settings)) } throws: { error in
                guard case DequantizationError.cellsNotTrained(c.data, c.model, _, _, _) = error else { return false }
                return Diagnostic(error).kind == .model
            }
        }
        // the model's own cells convert: the container model with --quantizer container on the lattice file,
        // and a model trained on both (trainedOn lattice:8.pcm_16 and container.pcm_16) takes each file
        _ = try QuantizerConvertTests.convert([lattice, dir.file("c.f32"), "--method", "variational", "--model", container,
                                               "--quantizer", "container"])
        let mixed = dir.file("mixed.dqm")
        try Self.train(lattice, mixed, [full])
        #expect(try DequantModel.load(path: mixed).trainedCells.quantizers == [.container(.pcm16), try .lattice(.pcm16, stepLog2: 8)])
        for data in [lattice, full] {
            _ = try QuantizerConvertTests.convert([data, dir.file("m.f32"), "--method", "variational", "--model", mixed, "--force"])
        }
        // a batch: the file in other cells fails (its line in the manifest), the other converts, exit 1
        let corpus = dir.file("corpus"), outDir = dir.file("out")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: lattice, toPath: corpus + "/coarse.wav")
        try FileManager.default.copyItem(atPath: full, toPath: corpus + "/full.wav")
        let b = try CLI.run(["convert", corpus, outDir, "--method", "variational", "--model", coarse, "--jobs", "1"])
        #expect(b.status == 1, "\(b.stderr)")
        let records = try manifest(outDir + "/manifest-all.jsonl")
        #expect(records.map(\.relative) == ["coarse.wav", "full.wav"] && records.map(\.status) == [.ok, .failed])
        #expect(records.last?.error?.contains("was trained on lattice:8 of PCM signed 16-bit") == true, "\(records)")
    }

    /// A given quantizer contradicted by a code stops a variational conversion at that code (the
    /// first one, as for uniform noise) before q runs on it: no output.
    @Test func aContradictedQuantizerStopsAtTheFirstOffendingCode() throws {
        let dir = try TempDir(), lattice = try Case.lattice.data(dir), model = dir.file("m.dqm")
        try Self.train(lattice, model, [])
        var bins = try readBins(lattice).bins
        let bad = 3001
        bins[bad] += 1
        let input = dir.file("odd.wav")
        let w = try CodeWriter(path: input, container: .wav, encoding: .pcm16, sampleRate: 8000, channels: 1)
        try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
        let r = try CLI.run(["convert", input, dir.file("y.f32"), "--method", "variational", "--model", model, "--quantizer", "lattice:8"])
        #expect(r.status == 1 && r.stderr.contains("\(input): sample \(bad) (frame \(bad), channel 0)"), "\(r.stderr)")
        #expect(dir.entries.sorted() == ["m.dqm", "odd.wav", "x256.wav"])
    }
}
