import Foundation
import Testing
@testable import AudioDQ

/// Batch mode on corpora as other projects ship them: names that differ only by extension,
/// containers without a listed extension, files that are not audio, 24-bit files.
@Suite(.serialized) struct BatchInputsTests {
    func copy(_ name: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture(name), toPath: path)
    }

    /// Copies fixtures into a corpus: relative path → fixture name.
    func corpus(_ root: String, _ files: [String: String]) throws {
        for (rel, name) in files { try copy(name, to: root + "/" + rel) }
    }

    /// Writes the bins of fixture `name` into `container` with audiodq's exact writer.
    func rewrite(_ name: String, as container: AudioContainer, to path: String) throws {
        let s = try readBins(fixture(name))
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let w = try CodeWriter(path: path, container: container, encoding: container.storedEncoding(for: s.encoding)!,
                               sampleRate: s.sampleRate, channels: s.channels)
        try s.bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
    }

    func outputs(_ root: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for rel in FileManager.default.enumerator(atPath: root)!.compactMap({ $0 as? String })
        where rel.hasSuffix(".f32") || rel.hasSuffix(".f64") {
            out[rel] = try? bytes(root + "/" + rel)
        }
        return out
    }

    /// `one` (the outputs of `input` with seed 5, one job) has the same names and bytes with 3
    /// jobs and in `shards` shards, and its output for `alone` is that file converted by itself.
    func expectSameOutputs(_ one: [String: Data], input: String, dir: TempDir, shards: Int, alone: String) throws {
        #expect(try CLI.run(["convert", input, dir.file("jobs"), "--seed", "5", "--jobs", "3", "-q"]).status == 0)
        #expect(outputs(dir.file("jobs")) == one)
        for i in 0..<shards {
            #expect(try CLI.run(["convert", input, dir.file("shards"), "--seed", "5", "--shard", "\(i)/\(shards)", "-q"]).status == 0)
        }
        #expect(outputs(dir.file("shards")) == one)
        let single = dir.file("single.f32")
        #expect(try CLI.run(["convert", input + "/" + alone, single, "--seed", "5", "-q"]).status == 0)
        #expect(try bytes(single) == one[alone + ".f32"])
    }

    @Test func inputsThatDifferOnlyByExtensionAllConvertUnderStableNames() throws {
        let dir = try TempDir()
        let input = dir.file("in")
        try corpus(input, ["a.wav": "speech.wav", "a.au": "speech-s16.au", "a.aiff": "speech-s16.aiff",
                           "sub/b.au": "speech-ulaw.au", "sub/c.wav": "stereo.wav", "sub/c.WAV": "speech-alaw.wav"])
        let r = try CLI.run(["convert", input, dir.file("one"), "--seed", "5", "--jobs", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("6 ok, 0 skipped, 0 failed"), "\(r.stderr)")
        let one = outputs(dir.file("one"))
        #expect(Set(one.keys) == ["a.wav.f32", "a.au.f32", "a.aiff.f32", "sub/b.f32", "sub/c.wav.f32", "sub/c.WAV.f32"])
        try expectSameOutputs(one, input: input, dir: dir, shards: 4, alone: "a.au")
        // a re-run finds every output by its name
        #expect(try CLI.run(["convert", input, dir.file("one"), "--seed", "5"]).stderr.contains("0 ok, 6 skipped, 0 failed"))
        // a repeated manifest line is still one output, reported once as a conflict
        try "a.wav\na.au\na.wav\n".write(toFile: input + "/list.txt", atomically: false, encoding: .utf8)
        let m = try CLI.run(["convert", input + "/list.txt", dir.file("listed"), "--seed", "5"])
        #expect(m.status == 1 && m.stderr.contains("maps to the same output"), "\(m.stderr)")
        #expect(outputs(dir.file("listed")) == ["a.wav.f32": one["a.wav.f32"]!, "a.au.f32": one["a.au.f32"]!])
    }

    /// A name that keeps its extension can meet another file's name without one (`a.wav` kept
    /// from `a.wav`/`a.au`, `a.wav` dropped from `a.wav.flac`): those keep theirs too, until no
    /// two inputs share an output, the same way whatever --jobs and --shard.
    @Test func keptExtensionsThatCollideAgainKeepTheirsToo() throws {
        let dir = try TempDir()
        let input = dir.file("in")
        try corpus(input, ["a.wav": "speech.wav", "a.au": "speech-s16.au", "a.wav.flac": "speech-s16.flac", "b.wav": "stereo.wav"])
        let r = try CLI.run(["convert", input, dir.file("one"), "--seed", "5", "--jobs", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("4 ok, 0 skipped, 0 failed"), "\(r.stderr)")
        let one = outputs(dir.file("one"))
        #expect(Set(one.keys) == ["a.wav.f32", "a.au.f32", "a.wav.flac.f32", "b.f32"])
        try expectSameOutputs(one, input: input, dir: dir, shards: 3, alone: "a.wav.flac")
    }

    @Test func everyFileUnderTheRootGetsAManifestEntry() throws {
        let dir = try TempDir()
        let input = dir.file("in")
        try copy("speech.wav", to: input + "/speech.wav")
        try rewrite("speech-u8.wav", as: .voc, to: input + "/voc/creative.voc")
        try rewrite("speech-s8.au", as: .svx, to: input + "/amiga.8svx")
        try rewrite("speech.wav", as: .nist, to: input + "/timit/SA1.WAV")     // NIST SPHERE named .WAV
        try rewrite("speech-ulaw.au", as: .nist, to: input + "/timit/SA2")     // no extension at all
        try Data("the transcript\n".utf8).write(to: URL(fileURLWithPath: input + "/timit/SA1.TXT"))
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: input + "/song.mp3"))
        try copy("speech-ulaw.raw", to: input + "/headerless.raw")
        try Data("x".utf8).write(to: URL(fileURLWithPath: input + "/.DS_Store"))
        #expect(mkfifo(input + "/stream.wav", 0o644) == 0)   // opening it would block: never opened
        let out = input + "/converted"   // an output folder inside the input is not listed
        for round in 0..<2 {
            let r = try CLI.run(["convert", input, out, "--jobs", "2"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains(round == 0 ? "5 ok, 4 skipped, 0 failed (4 files not converted, reasons in the manifest)" : "0 ok, 9 skipped, 0 failed"), "\(r.stderr)")
            let m = try manifest(out + "/manifest-all.jsonl")
            let status = Dictionary(uniqueKeysWithValues: m.map { ($0.relative, $0.status) })
            #expect(status == ["speech.wav": round == 0 ? .ok : .skipped, "voc/creative.voc": round == 0 ? .ok : .skipped,
                               "amiga.8svx": round == 0 ? .ok : .skipped, "timit/SA1.WAV": round == 0 ? .ok : .skipped,
                               "timit/SA2": round == 0 ? .ok : .skipped, "timit/SA1.TXT": .skipped, "song.mp3": .skipped,
                               "headerless.raw": .skipped, "stream.wav": .skipped])
            for rec in m where ["timit/SA1.TXT", "song.mp3", "headerless.raw", "stream.wav"].contains(rec.relative) {
                #expect(rec.output == nil && rec.error?.isEmpty == false, "\(rec)")
            }
            #expect(m.first { $0.relative == "headerless.raw" }?.error?.contains("--raw") == true)
        }
        // every converted file restores to its source's bins
        for rec in try manifest(out + "/manifest-all.jsonl") where rec.output != nil {
            let back = dir.file("back-\(rec.relative.replacingOccurrences(of: "/", with: "-")).wav")
            try Restorer.run(RestoreOptions(input: rec.output!, output: back))
            #expect(try readBins(back).bins == readBins(rec.source).bins, "\(rec.relative)")
        }
        #expect(try Sidecar.load(path: out + "/timit/SA1.f32.json").source.container == "nist")
        // with --raw, the headerless file is converted too; headered files keep their headers
        let raw = try CLI.run(["convert", input, dir.file("raw"), "--raw", "ulaw:8000:1", "-q"])
        #expect(raw.status == 0, "\(raw.stderr)")
        let withRaw = try manifest(dir.file("raw/manifest-all.jsonl"))
        #expect(withRaw.filter { $0.status == .ok }.count == 6)
        #expect(try bytes(dir.file("raw/speech.f32")) == bytes(out + "/speech.f32"))
        // a folder with nothing to convert is an error, not an empty success
        try FileManager.default.createDirectory(atPath: dir.file("text"), withIntermediateDirectories: true)
        try Data("words".utf8).write(to: URL(fileURLWithPath: dir.file("text/notes.txt")))
        let none = try CLI.run(["convert", dir.file("text"), dir.file("none")])
        #expect(none.status == 1 && none.stderr.contains("no audio files found (1 other file)"), "\(none.stderr)")
    }

    @Test func twentyFourBitFilesGoToFloat64ByDefault() throws {
        let dir = try TempDir()
        let input = dir.file("in")
        try corpus(input, ["deep.wav": "speech-s24.wav", "sub/deep.flac": "speech-s24.flac", "plain.wav": "speech.wav"])
        let out = dir.file("out")
        let r = try CLI.run(["convert", input, out, "--seed", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 ok, 0 skipped, 0 failed (2 24-bit files written as f64)"), "\(r.stderr)")
        #expect(Set(outputs(out).keys) == ["deep.f64", "sub/deep.f64", "plain.f32"])
        let m = try manifest(out + "/manifest-all.jsonl")
        for rec in m {
            let deep = rec.relative != "plain.wav"
            #expect(rec.status == .ok)
            #expect(rec.format == (deep ? .f64 : nil) && rec.dtype == (deep ? .float64 : nil), "\(rec)")
        }
        // the bytes of the file converted alone to .f64 with the same seed
        let single = dir.file("single.f64")
        #expect(try CLI.run(["convert", input + "/deep.wav", single, "--seed", "2", "-q"]).status == 0)
        #expect(try bytes(single) == bytes(out + "/deep.f64"))
        #expect(try Sidecar.load(path: out + "/deep.f64.json").output.dtype == .float64)
        // a re-run finds the f64 outputs
        #expect(try CLI.run(["convert", input, out, "--seed", "2"]).stderr.contains("0 ok, 3 skipped, 0 failed"))
        // an explicit --format f32 refuses them, naming the source and the output
        let f32 = try CLI.run(["convert", input, dir.file("f32"), "--format", "f32"])
        #expect(f32.status == 1)
        #expect(f32.stderr.contains("1 ok, 0 skipped, 2 failed"), "\(f32.stderr)")
        let failed = try manifest(dir.file("f32/manifest-all.jsonl")).filter { $0.status == .failed }
        #expect(failed.count == 2)
        for rec in failed {
            #expect(rec.error?.contains(rec.source) == true && rec.error?.contains(rec.output!) == true, "\(rec)")
        }
        // and so does a single conversion
        let one = try CLI.run(["convert", input + "/deep.wav", dir.file("deep.f32")])
        #expect(one.status == 1 && one.stderr.contains(input + "/deep.wav") && one.stderr.contains(dir.file("deep.f32")), "\(one.stderr)")
    }
}
