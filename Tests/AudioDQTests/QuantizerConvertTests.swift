import Foundation
import Testing
@testable import AudioDQ

/// `convert`, batch conversion and `restore` dequantize into the quantizer's true cells
/// (issue #12): `--quantizer auto|container|lattice:K|mulaw|alaw`, `--domain code|linear`.
@Suite struct QuantizerConvertTests {
    /// A mono 8-bit WAV at 8 kHz (unsigned: byte = c + 128) holding the 8-bit codes c.
    static func wav8(_ codes: [Int]) -> Data {
        var d = Data()
        func u16(_ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)]) }
        func u32(_ v: Int) { u16(v & 0xFFFF); u16(v >> 16 & 0xFFFF) }
        d.append(contentsOf: Array("RIFF".utf8)); u32(4 + 8 + 16 + 8 + codes.count + codes.count % 2)
        d.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16)
        u16(1); u16(1); u32(8000); u32(8000); u16(1); u16(8)
        d.append(contentsOf: Array("data".utf8)); u32(codes.count)
        d.append(contentsOf: codes.map { UInt8($0 + 128) })
        if codes.count % 2 == 1 { d.append(0) }
        return d
    }

    /// 8-bit codes of a decaying tone (many distinct levels), and the same audio as a 16-bit WAV
    /// (c·256) and as an 8-bit WAV, written into `dir`.
    static func eightBitAudio(_ dir: TempDir) throws -> (codes: [Int], wav16: String, wav8: String) {
        let codes = InfoQuantizerTests.tone().map { Int(($0 / 256).rounded(.down)) }
        let wav16 = dir.file("x256.wav"), wav8 = dir.file("u8.wav")
        try InfoQuantizerTests.wav(codes.map { Int16($0 * 256) }).write(to: URL(fileURLWithPath: wav16))
        try Self.wav8(codes).write(to: URL(fileURLWithPath: wav8))
        return (codes, wav16, wav8)
    }

    static func convert(_ args: [String]) throws -> CLI.Result {
        let r = try CLI.run(["convert"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        return r
    }

    @Test func eightBitsInSixteenConvertLikeTheEightBitFile() throws {
        let dir = try TempDir()
        let (codes, wav16, wav8) = try Self.eightBitAudio(dir)
        for ext in ["f64", "f32"] {
            // one stream name for both files (the default, each file's SHA-256, would differ)
            let r = try Self.convert([wav16, dir.file("x256.\(ext)"), "--quantizer", "auto", "--key", "k"])
            #expect(r.stderr.contains("quantizer lattice 2^8 (8 of 16 bits): every sample is a multiple of 2^8"), "\(r.stderr)")
            let r8 = try Self.convert([wav8, dir.file("u8.\(ext)"), "--key", "k"])
            #expect(!r8.stderr.contains("quantizer"), "the 8-bit file's own codes are not announced: \(r8.stderr)")
            // float64 and float32 alike: the lattice cell of c·256 is the 8-bit cell of c, same u
            #expect(try bytes(dir.file("x256.\(ext)")) == bytes(dir.file("u8.\(ext)")), "\(ext)")
        }
        let sc = try Sidecar.load(path: dir.file("x256.f64.json"))
        let q = try #require(sc.dequantization.quantizer)
        #expect(q.kind == "lattice" && q.stepLog2 == 8 && q.scale == 65536 && q.cells == 256)
        #expect(q.reason?.hasPrefix("every sample is a multiple of 2^8") == true)
        #expect(sc.dequantization.decode == "x = floor(y * 65536); code = x - x mod 256 (bin; value = code - 32768)")
        #expect(try sc.resolved?.quantizer == Quantizer.lattice(.pcm16, stepLog2: 8))
        for ext in ["f64", "f32"] {
            let back = dir.file("back-\(ext).wav")
            let r = try CLI.run(["restore", dir.file("x256.\(ext)"), back])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try readBins(back).bins == codes.map { UInt32($0 * 256 + 32768) }, "\(ext)")
            // an encoding given with the sidecar keeps the sidecar's cells (one-code cells would
            // decode c·256 + u·256 to c·256 + ⌊u·256⌋)
            let backGiven = dir.file("back-given-\(ext).wav")
            let g = try CLI.run(["restore", dir.file("x256.\(ext)"), backGiven, "--encoding", "s16"])
            #expect(g.status == 0, "\(g.stderr)")
            #expect(try readBins(backGiven).bins == codes.map { UInt32($0 * 256 + 32768) }, "--encoding s16, \(ext)")
        }
    }

    /// The one-code formula x = ⌊y·K⌋ holds for one-code cells only: on a detected 2^8 lattice
    /// (the default `auto`) it misses most codes, the sidecar's decode rule finds every one, and
    /// `convert --help` says so instead of promising floor(y*K) for every output.
    @Test func oneCodeFormulaIsNotTheDecodeRuleOfOtherCells() throws {
        let dir = try TempDir()
        let (codes, wav16, _) = try Self.eightBitAudio(dir)
        _ = try Self.convert([wav16, dir.file("auto.f64")])
        let y = try bytes(dir.file("auto.f64")).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        let bins = codes.map { $0 * 256 + 32768 }
        let floorHits = zip(y, bins).filter { Int(($0 * 65536).rounded(.down)) == $1 }.count
        #expect(floorHits * 50 < bins.count, "\(floorHits) of \(bins.count)")   // about 1/256 expected
        // the sidecar's rule: x = floor(y * 65536); code = x - x mod 256
        #expect(zip(y, bins).allSatisfy { let x = Int(($0 * 65536).rounded(.down)); return x - x % 256 == $1 })
        let help = try CLI.run(["convert", "--help"])
        #expect(help.status == 0)
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("In one-code cells (--quantizer container,"), "\(text)")
        #expect(text.contains("floor(y*K) is in general not the code: the sidecar's decode rule gives it, and restore uses it"), "\(text)")
    }

    /// `-q` is silent on success whatever the quantizer, also when auto chose one that is not the
    /// container's; the sidecar records it and why (without -q the summary line names it).
    @Test func quietConvertIsSilentAndTheSidecarNamesTheQuantizer() throws {
        let dir = try TempDir()
        let (_, wav16, _) = try Self.eightBitAudio(dir)
        let r = try Self.convert([wav16, dir.file("q.f32"), "-q"])
        #expect(r.stderr.isEmpty && r.stdout.isEmpty, "\(r.stderr)")
        let q = try #require(try Sidecar.load(path: dir.file("q.f32.json")).dequantization.quantizer)
        #expect(q.kind == "lattice" && q.stepLog2 == 8 && q.reason?.hasPrefix("every sample is a multiple of 2^8") == true)
        let loud = try Self.convert([wav16, dir.file("loud.f32")])
        #expect(loud.stderr.contains("quantizer lattice 2^8 (8 of 16 bits)"), "\(loud.stderr)")
    }

    /// A-law audio expanded to 16-bit with digital silence around it (0 is no A-law level):
    /// `auto` takes the 2^3 lattice the samples lie on, so the default convert works and
    /// `restore` gives every sample back, the zeros included; `--quantizer alaw` is refused,
    /// naming the first zero.
    @Test func aLawExpandedWithSilenceConvertsOnItsLattice() throws {
        let dir = try TempDir(), path = dir.file("alaw-padded.wav")
        let cells = G711Cells.alaw   // each tone sample to its A-law cell's level
        let tone = InfoQuantizerTests.tone().map { Int(cells.levels[Int(cells.binOfValue[Int($0.rounded()) + 32768])]) }
        let samples = ([Int](repeating: 0, count: 400) + tone + [Int](repeating: 0, count: 400)).map { Int16($0) }
        try InfoQuantizerTests.wav(samples).write(to: URL(fileURLWithPath: path))
        let y = dir.file("y.f32")
        let r = try Self.convert([path, y])
        #expect(r.status == 0 && r.stderr.contains("lattice 2^3"), "\(r.stderr)")
        #expect(try Sidecar.load(path: y + ".json").dequantization.quantizer?.stepLog2 == 3)
        let back = dir.file("back.wav")
        #expect(try CLI.run(["restore", y, back]).status == 0)
        #expect(try readBins(back).bins == readBins(path).bins)
        let refused = try CLI.run(["convert", path, dir.file("a.f32"), "--quantizer", "alaw", "--domain", "linear"])
        #expect(refused.status == 1 && refused.stderr.contains("sample 0") && refused.stderr.contains(path), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("a.f32")))
    }

    @Test func containerQuantizerGivesTheContainersBytes() throws {
        let dir = try TempDir()
        let (codes, wav16, _) = try Self.eightBitAudio(dir)
        let r = try Self.convert([wav16, dir.file("c.f32"), "--quantizer", "container", "--key", "k"])
        #expect(!r.stderr.contains("quantizer"), "\(r.stderr)")
        let bins = codes.map { UInt32($0 * 256 + 32768) }
        var expected = [Float](repeating: 0, count: bins.count)
        let uniform = UniformDequantizer(binCount: 65536, range: .unit, key: NoiseKey(seed: 0, name: "k"))
        bins.withUnsafeBufferPointer { b in expected.withUnsafeMutableBufferPointer { uniform.dequantize(bins: b, firstIndex: 0, into: $0) } }
        #expect(try bytes(dir.file("c.f32")) == expected.withUnsafeBytes { Data($0) })
        #expect(try Sidecar.load(path: dir.file("c.f32.json")).dequantization.quantizer?.kind == "container")
        // and the detected lattice does differ from it
        _ = try Self.convert([wav16, dir.file("auto.f32"), "--key", "k"])
        #expect(try bytes(dir.file("auto.f32")) != bytes(dir.file("c.f32")))
    }

    @Test func muLawInTheLinearDomainFillsTheDecisionIntervals() throws {
        let dir = try TempDir(), input = fixture("sweep-ulaw.wav"), out = dir.file("lin.f64")
        let r = try Self.convert([input, out, "--domain", "linear"])
        #expect(r.stderr.contains("quantizer mu-law cells (linear)"), "\(r.stderr)")
        let bins = try readBins(input).bins
        let q = try Quantizer.g711Linear(.ulaw, container: .ulaw)
        let y = try bytes(out).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        #expect(y.count == bins.count)
        var positions: [Double] = []
        for (v, b) in zip(y, bins) {
            let cell = try #require(q.cell(ofY: v, range: .unit))
            #expect(q.bin(ofCell: cell) == Int(b))
            positions.append(q.position(of: v * 65536 - 32768, inCell: cell))
        }
        // uniform over each interval: positions cover [0, 1) with mean 1/2
        let mean = positions.reduce(0, +) / Double(positions.count)
        #expect(abs(mean - 0.5) < 0.02 && positions.min()! < 0.01 && positions.max()! > 0.99, "mean \(mean)")
        let sc = try Sidecar.load(path: out + ".json")
        #expect(sc.dequantization.quantizer?.kind == "g711-linear" && sc.dequantization.quantizer?.law == .ulaw)
        let back = dir.file("back.wav")
        let rr = try CLI.run(["restore", out, back])
        #expect(rr.status == 0, "\(rr.stderr)")
        #expect(try readBins(back).bins == bins)
        #expect(try readBins(back).encoding == .ulaw)
        // the code domain (default) is today's: the same bytes as --quantizer container
        _ = try Self.convert([input, dir.file("code.f64")])
        _ = try Self.convert([input, dir.file("code2.f64"), "--quantizer", "container", "--domain", "code"])
        #expect(try bytes(dir.file("code.f64")) == bytes(dir.file("code2.f64")))
        #expect(try bytes(dir.file("code.f64")) != bytes(out))
    }

    /// The sidecar's decode rule for G.711 cells is complete in itself: it names the half-open
    /// integer cells, where they come from and the encoder that is the same rule, because
    /// x = ⌊y·S⌋ puts values exactly on negative cells' lower bounds, where encoders differ.
    @Test func g711DecodeRuleNamesTheCellsExactly() throws {
        let dir = try TempDir(), input = fixture("speech.wav"), out = dir.file("lin.f64")
        _ = try Self.convert([input, out, "--domain", "linear"])
        let cells = "(audiodq G711Cells: positive [lo, hi), negative [-hi, -lo), -0 (0x7F) [-4, 0), +0 (0xFF) [0, 4)), "
            + "so b = the ITU-T G.191 encoder ulaw_compress of the 16-bit integer w"
        let g711 = "the mu-law cells are ITU-T G.711's decision intervals as integer bounds [lower, upper) on the 16-bit scale "
        #expect(try Sidecar.load(path: out + ".json").dequantization.decode
                == "x = floor(y * 65536); w = x - 32768; code = the mu-law byte b whose cell holds w (lower <= w < upper); " + g711 + cells)
        // values on a negative cell's lower bound occur, and belong to that cell
        let bins = try readBins(input).bins
        let y = try bytes(out).withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        var onNegativeBound = 0
        for (v, b) in zip(y, bins) {
            let w = Int((v * 65536).rounded(.down)) - 32768
            let (lower, upper) = G711Cells.ulaw.cell(bin: Int(b))
            #expect(lower <= w && w < upper)
            if w == lower && upper <= 0 { onNegativeBound += 1 }
        }
        #expect(onNegativeBound > 0)
        // 16-bit PCM holding expanded μ-law: the code is the level, both zeros one cell
        let pcm = dir.file("pcm.wav")
        try InfoQuantizerTests.wav(bins.map { Int16(G711.muLawLinear(UInt8(BinMap(.ulaw).binToByte[Int($0)]))) })
            .write(to: URL(fileURLWithPath: pcm))
        _ = try Self.convert([pcm, dir.file("pcm.f32"), "--quantizer", "mulaw", "--range", "symmetric"])
        #expect(try Sidecar.load(path: dir.file("pcm.f32.json")).dequantization.decode
                == "x = floor(y * 32768) + 32768; w = x - 32768; b = the mu-law byte whose cell holds w (lower <= w < upper); "
                + "code = 32768 + level(b), level = b's G.711 decoded value on the 16-bit scale; both zero bytes give 0, one cell [-4, 4); "
                + g711 + cells)
        let back = dir.file("back.wav")
        #expect(try CLI.run(["restore", dir.file("pcm.f32"), back]).status == 0)
        #expect(try readBins(back).bins == readBins(pcm).bins)
    }

    @Test func aContradictedLatticeFailsAtTheFirstOffendingSample() throws {
        let dir = try TempDir(), input = dir.file("full.wav")
        let samples = InfoQuantizerTests.tone().map { Int16($0.rounded(.down)) }
        try InfoQuantizerTests.wav(samples).write(to: URL(fileURLWithPath: input))
        let first = try #require(samples.firstIndex { Int($0) % 256 != 0 })
        let r = try CLI.run(["convert", input, dir.file("y.f32"), "--quantizer", "lattice:8", "--threads", "2", "--chunk-frames", "1000"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(input): sample \(first) (frame \(first), channel 0) is \(samples[first]), which the quantizer lattice 2^8 (8 of 16 bits) cannot produce"), "\(r.stderr)")
        #expect(dir.entries == ["full.wav"])
        // a quantizer that does not fit the container is refused before anything is written
        let g = try CLI.run(["convert", fixture("sweep-ulaw.wav"), dir.file("z.f32"), "--quantizer", "lattice:2"])
        #expect(g.status == 1 && g.stderr.contains("quantizer lattice:2 does not fit: the file holds G.711 mu-law codes"), "\(g.stderr)")
        #expect(dir.entries == ["full.wav"])
    }

    @Test func batchRecordsTheQuantizerAndRedoesAnOutputWhoseQuantizerDiffers() throws {
        let dir = try TempDir()
        let corpus = dir.file("corpus"), out = dir.file("out")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let codes = InfoQuantizerTests.tone().map { Int(($0 / 256).rounded(.down)) }
        try InfoQuantizerTests.wav(codes.map { Int16($0 * 256) }).write(to: URL(fileURLWithPath: corpus + "/x256.wav"))
        try InfoQuantizerTests.wav(InfoQuantizerTests.tone().map { Int16($0.rounded(.down)) }).write(to: URL(fileURLWithPath: corpus + "/full.wav"))
        _ = try Self.convert([corpus, out, "--jobs", "1"])
        var records = try manifest(out + "/manifest-all.jsonl")
        #expect(records.map(\.relative) == ["full.wav", "x256.wav"])
        #expect(records.map(\.quantizer) == [nil, "lattice 2^8 (8 of 16 bits)"])
        #expect(records.map(\.status) == [.ok, .ok])
        // an old sidecar (no quantizer) is container cells: up to date for full.wav
        let fullSidecar = out + "/full.f32.json"
        var json = try #require(JSONSerialization.jsonObject(with: bytes(fullSidecar)) as? [String: Any])
        var d = try #require(json["dequantization"] as? [String: Any])
        d["quantizer"] = nil
        json["dequantization"] = d
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: fullSidecar))
        _ = try Self.convert([corpus, out, "--jobs", "1"])
        records = try manifest(out + "/manifest-all.jsonl")
        #expect(records.map(\.status) == [.skipped, .skipped])
        // the same run asking for container cells: only the lattice file's output is redone
        let before = try bytes(out + "/x256.f32")
        _ = try Self.convert([corpus, out, "--jobs", "1", "--quantizer", "container"])
        records = try manifest(out + "/manifest-all.jsonl")
        #expect(records.map(\.status) == [.skipped, .ok])
        #expect(records.map(\.quantizer) == [nil, nil])
        #expect(try bytes(out + "/x256.f32") != before)
        #expect(try Sidecar.load(path: out + "/x256.f32.json").dequantization.quantizer?.kind == "container")
    }

    /// A batch names its non-container quantizers on stderr, once per quantizer however many
    /// files have it: a container file and two 8-bit-in-16-bit files give one note for the
    /// lattice, with the count and the first lattice file in manifest order; the up-to-date
    /// re-run (outputs still in those cells) says it again; --quiet prints nothing; a folder of
    /// container files prints no note and no quantizer.
    @Test func batchAnnouncesEachNonContainerQuantizerOnce() throws {
        let dir = try TempDir()
        let corpus = dir.file("corpus"), out = dir.file("out")
        try FileManager.default.createDirectory(atPath: corpus + "/sub", withIntermediateDirectories: true)
        let codes = InfoQuantizerTests.tone().map { Int(($0 / 256).rounded(.down)) }
        try InfoQuantizerTests.wav(codes.map { Int16($0 * 256) }).write(to: URL(fileURLWithPath: corpus + "/sub/x256.wav"))
        try InfoQuantizerTests.wav(codes.reversed().map { Int16($0 * 256) }).write(to: URL(fileURLWithPath: corpus + "/y256.wav"))
        try InfoQuantizerTests.wav(InfoQuantizerTests.tone().map { Int16($0.rounded(.down)) }).write(to: URL(fileURLWithPath: corpus + "/full.wav"))
        func notes(_ r: CLI.Result) -> [String] { r.stderr.split(separator: "\n").map(String.init).filter { $0.contains("note:") } }
        let line = "audiodq: note: \(corpus)/sub/x256.wav: quantizer lattice:8 = lattice 2^8 (8 of 16 bits) (every sample is a multiple of 2^8"
        for run in 0..<2 {
            let r = try Self.convert([corpus, out, "--jobs", "2"])
            let n = notes(r)
            #expect(n.count == 1, "run \(run): \(r.stderr)")
            #expect(n.first?.hasPrefix(line) == true, "run \(run): \(r.stderr)")
            #expect(n.first?.hasSuffix("), and 1 more file; the manifest names each file's quantizer") == true, "run \(run): \(r.stderr)")
            // the note comes before the summary line
            #expect(r.stderr.range(of: "note:")!.lowerBound < r.stderr.range(of: "; manifest ")!.lowerBound)
        }
        #expect(try manifest(out + "/manifest-all.jsonl").map(\.status) == [.skipped, .skipped, .skipped])
        let quiet = try Self.convert([corpus, dir.file("out-q"), "--jobs", "1", "-q", "--force"])
        #expect(quiet.stderr.isEmpty, "\(quiet.stderr)")
        // container files only: nothing about quantizers
        let plain = dir.file("plain")
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: corpus + "/full.wav", toPath: plain + "/a.wav")
        try FileManager.default.copyItem(atPath: fixture("sweep-ulaw.wav"), toPath: plain + "/b.wav")
        let r = try Self.convert([plain, dir.file("out-plain"), "--jobs", "1"])
        #expect(notes(r).isEmpty && !r.stderr.contains("quantizer"), "\(r.stderr)")
        #expect(r.stderr.contains("2 ok, 0 skipped, 0 failed"), "\(r.stderr)")
    }

    /// report measures the within-cell position in the true cells: a lattice file's uniform noise
    /// passes (dequantized here with the detected quantizer, or replayed with its sidecar's), and
    /// the same values judged in container cells do not (they leave their one-code bins).
    @Test func reportJudgesTheTrueCells() throws {
        let dir = try TempDir(), input = dir.file("x256.wav")
        let codes = InfoQuantizerTests.tone(count: 64000).map { Int(($0 / 256).rounded(.down)) }
        try InfoQuantizerTests.wav(codes.map { Int16($0 * 256) }).write(to: URL(fileURLWithPath: input))
        func passed(_ args: [String]) throws -> (Bool, CLI.Result) {
            let json = dir.file("r\(UUID().uuidString).json")
            let r = try CLI.run(["report", input, "--json", json, "--check"] + args)
            let obj = try JSONSerialization.jsonObject(with: bytes(json)) as? [String: Any]
            return (obj?["passed"] as? Bool == true, r)
        }
        let (here, h) = try passed([])
        #expect(here && h.status == 0, "\(h.stdout)\(h.stderr)")
        _ = try Self.convert([input, dir.file("y.f64")])
        let (replayed, p) = try passed(["--dequantized", dir.file("y.f64")])
        #expect(replayed && p.status == 0, "\(p.stdout)\(p.stderr)")
        // --domain linear is a G.711 notion: on linear PCM it leaves auto to the sidecar (it once
        // asked for a detection that had not run: "quantizer not detected before resolving")
        let (linear, l) = try passed(["--dequantized", dir.file("y.f64"), "--domain", "linear"])
        #expect(linear && l.status == 0, "\(l.stdout)\(l.stderr)")
        let (asContainer, c) = try passed(["--dequantized", dir.file("y.f64"), "--quantizer", "container"])
        #expect(!asContainer && c.status == 1 && c.stderr.contains("containment"), "\(c.stdout)\(c.stderr)")
    }
}
