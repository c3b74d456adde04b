import Foundation
import Testing
@testable import AudioDQ

@Suite(.serialized) struct BatchTests {
    /// A corpus: speech in several encodings under nested folders, plus one file audiodq refuses.
    func corpus(_ dir: TempDir, copies: Int = 2) throws -> String {
        let root = dir.file("in")
        let fm = FileManager.default
        for c in 0..<copies {
            for sub in ["a", "b/c"] {
                try fm.createDirectory(atPath: "\(root)/\(sub)", withIntermediateDirectories: true)
                for name in ["speech.wav", "speech-alaw.au", "speech-s16.flac", "stereo.wav"] {
                    try fm.copyItem(atPath: fixture(name), toPath: "\(root)/\(sub)/\(c)-\(name)")
                }
            }
        }
        return root
    }

    func treeBytes(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for rel in FileManager.default.enumerator(atPath: root)!.compactMap({ $0 as? String }) where rel.hasSuffix(".f32") {
            out[rel] = try bytes(root + "/" + rel)
        }
        return out
    }

    @Test func jobsShardsAndSingleFilesAgreeByteForByte() throws {
        let dir = try TempDir()
        let input = try corpus(dir)
        let r1 = try CLI.run(["convert", input, dir.file("one"), "--jobs", "1", "--seed", "3", "-q"])
        #expect(r1.status == 0, "\(r1.stderr)")
        let one = try treeBytes(dir.file("one"))
        #expect(one.count == 16)
        #expect(try CLI.run(["convert", input, dir.file("two"), "--jobs", "3", "--seed", "3", "-q"]).status == 0)
        #expect(try treeBytes(dir.file("two")) == one)
        var union: [String: Data] = [:]
        for i in 0..<3 {
            #expect(try CLI.run(["convert", input, dir.file("shards"), "--shard", "\(i)/3", "--seed", "3", "-q"]).status == 0)
            let m = try manifest(dir.file("shards/manifest-\(i)-of-3.jsonl"))
            #expect(m.allSatisfy { Shard(index: i, count: 3).contains(relativePath: $0.relative) })
        }
        union = try treeBytes(dir.file("shards"))
        #expect(union == one)
        // one file converted alone gives the same bytes (both key the noise by the file's SHA-256)
        let single = dir.file("single.f32")
        #expect(try CLI.run(["convert", input + "/b/c/1-stereo.wav", single, "--seed", "3", "-q"]).status == 0)
        #expect(try bytes(single) == one["b/c/1-stereo.f32"])
        // copies of one file under other names have one content, hence one stream
        #expect(one["a/1-stereo.f32"] == one["b/c/1-stereo.f32"])
        // the manifest lists every file with the output's SHA-256
        let m = try manifest(dir.file("one/manifest-all.jsonl"))
        #expect(m.count == 16 && m.allSatisfy { $0.status == .ok })
        let rec = m.first { $0.relative == "a/0-speech.wav" }!
        var h = SourceHash()
        try bytes(rec.output!).withUnsafeBytes { h.update($0) }
        #expect(rec.sha256 == h.finalizeHex() && rec.frames == 33978 && rec.binCount == 256)
    }

    @Test func manifestInputAndBadFilesDoNotStopTheBatch() throws {
        let dir = try TempDir()
        let input = try corpus(dir, copies: 1)
        try Data("not audio".utf8).write(to: URL(fileURLWithPath: input + "/a/broken.wav"))
        let list = dir.file("list.txt")
        try "# corpus\na/0-speech.wav\n\na/broken.wav\nb/c/0-stereo.wav\nmissing.wav\n".write(toFile: input + "/list.txt", atomically: false, encoding: .utf8)
        _ = list
        let r = try CLI.run(["convert", input + "/list.txt", dir.file("out"), "--jobs", "2"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("broken.wav") && r.stderr.contains("missing.wav"))
        #expect(r.stderr.contains("2 ok, 0 skipped, 2 failed"), "\(r.stderr)")
        let m = try manifest(dir.file("out/manifest-all.jsonl"))
        #expect(m.map(\.status) == [.ok, .failed, .ok, .failed])   // sorted by relative path
        #expect(m[1].error?.contains("broken.wav") == true)
        #expect(!FileManager.default.fileExists(atPath: dir.file("out/a/broken.f32")))
    }

    @Test func rerunsSkipMatchingOutputsAndRedoTheRest() throws {
        let dir = try TempDir()
        let input = try corpus(dir, copies: 1)
        let out = dir.file("out")
        #expect(try CLI.run(["convert", input, out, "-q"]).status == 0)
        let first = try treeBytes(out)
        let again = try CLI.run(["convert", input, out])
        #expect(again.status == 0 && again.stderr.contains("0 ok, 8 skipped, 0 failed"), "\(again.stderr)")
        // a damaged output is redone
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: out + "/a/0-speech.f32"))
        let repair = try CLI.run(["convert", input, out])
        #expect(repair.stderr.contains("1 ok, 7 skipped"), "\(repair.stderr)")
        #expect(try treeBytes(out) == first)
        // another seed redoes everything; --force redoes matching outputs
        #expect(try CLI.run(["convert", input, out, "--seed", "1"]).stderr.contains("8 ok, 0 skipped"))
        #expect(try CLI.run(["convert", input, out, "--seed", "1", "--force"]).stderr.contains("8 ok, 0 skipped"))
        #expect(try treeBytes(out) != first)
    }

    /// A model retrained in place keeps its path but not its bytes: the sidecar records the
    /// model file's SHA-256, and a re-run redoes every output made with the old model (and skips
    /// them while the model is unchanged).
    @Test func rerunsRedoOutputsOfAModelRetrainedInPlace() throws {
        let dir = try TempDir()
        let input = dir.file("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        for name in ["a.wav", "b.wav"] { try FileManager.default.copyItem(atPath: fixture("speech-u8.wav"), toPath: input + "/" + name) }
        let model = dir.file("m.dqm"), out = dir.file("out")
        func train(seed: String, _ extra: [String] = []) throws {
            let r = try CLI.run(["train", fixture("speech-u8.wav"), "--model", model, "--method", "variational", "--flow-steps", "1",
                                 "--hidden", "4", "--squeeze", "2", "--q-layers", "2", "--q-hidden", "8", "--steps", "3",
                                 "--segment", "256", "--batch", "2", "--threads", "1", "--seed", seed, "-q"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
        }
        func convert() throws -> String {
            let r = try CLI.run(["convert", input, out, "--method", "variational", "--model", model, "--jobs", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stderr
        }
        try train(seed: "1")
        #expect(try convert().contains("2 ok, 0 skipped"))
        let first = try treeBytes(out)
        #expect(try Sidecar.load(path: out + "/a.f32.json").dequantization.modelSHA256 == FileHasher.hash(path: model))
        #expect(try convert().contains("0 ok, 2 skipped"))
        try train(seed: "2", ["--force"])
        let again = try convert()
        #expect(again.contains("2 ok, 0 skipped"), "\(again)")
        #expect(try treeBytes(out) != first)
        #expect(try Sidecar.load(path: out + "/b.f32.json").dequantization.modelSHA256 == FileHasher.hash(path: model))
        #expect(try convert().contains("0 ok, 2 skipped"))
    }

    /// The `--raw` format decides how a headerless file's bytes are read: a re-run with another
    /// byte order, rate or channel count redoes the headerless outputs (files with a header are
    /// read alike and stay skipped); the same format skips them.
    @Test func rerunsRedoHeaderlessOutputsReadWithAnotherRawFormat() throws {
        let dir = try TempDir()
        let input = dir.file("in"), out = dir.file("out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("speech-s16be.raw"), toPath: input + "/take.raw")
        try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: input + "/speech.wav")
        func convert(_ raw: String) throws -> String {
            let r = try CLI.run(["convert", input, out, "--raw", raw, "--jobs", "1"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stderr
        }
        #expect(try convert("s16:8000:1:be").contains("2 ok, 0 skipped"))
        let big = try bytes(out + "/take.f32")
        #expect(try Sidecar.load(path: out + "/take.f32.json").source.raw == "pcm_16:8000:1:be")
        #expect(try Sidecar.load(path: out + "/speech.f32.json").source.raw == nil)
        #expect(try convert("s16:8000:1:be").contains("0 ok, 2 skipped"))
        #expect(try convert("s16:8000:1:le").contains("1 ok, 1 skipped"))
        #expect(try bytes(out + "/take.f32") != big)
        for (raw, rate, channels) in [("s16:16000:1:le", 16000, 1), ("s16:16000:2:le", 16000, 2)] {
            #expect(try convert(raw).contains("1 ok, 1 skipped"), "\(raw)")
            let sc = try Sidecar.load(path: out + "/take.f32.json")
            #expect(sc.source.sampleRate == rate && sc.source.channels == channels, "\(raw)")
        }
        #expect(try convert("s16:16000:2:le").contains("0 ok, 2 skipped"))
    }

    /// Without --dtype the dtype is the default one (float32 here), not whatever the sidecar
    /// says: an output written with --dtype float64 is redone by a run without it.
    @Test func rerunsCompareTheResolvedDtype() throws {
        let dir = try TempDir()
        let input = dir.file("in"), out = dir.file("out")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: input + "/speech.wav")
        #expect(try CLI.run(["convert", input, out, "--format", "npy", "--dtype", "float64", "-q"]).status == 0)
        #expect(try Sidecar.load(path: out + "/speech.npy.json").output.dtype == .float64)
        #expect(try CLI.run(["convert", input, out, "--format", "npy", "--dtype", "float64"]).stderr.contains("0 ok, 1 skipped"))
        let r = try CLI.run(["convert", input, out, "--format", "npy"])
        #expect(r.status == 0 && r.stderr.contains("1 ok, 0 skipped"), "\(r.stderr)")
        #expect(try Sidecar.load(path: out + "/speech.npy.json").output.dtype == .float32)
        #expect(try CLI.run(["convert", input, out, "--format", "npy", "--dtype", "float32"]).stderr.contains("0 ok, 1 skipped"))
    }

    /// Outputs written with the stream name of earlier versions (the relative path) are not what
    /// a run writes now: a re-run redoes them instead of skipping them as matching.
    @Test func outputsWithTheOldDefaultStreamAreRedone() throws {
        let dir = try TempDir()
        let input = try corpus(dir, copies: 1)
        let out = dir.file("out")
        #expect(try CLI.run(["convert", input, out, "--seed", "2", "-q"]).status == 0)
        let current = try treeBytes(out)
        let sc = try Sidecar.load(path: out + "/a/0-speech.f32.json")
        #expect(sc.dequantization.streamName == sc.source.sha256 && sc.dequantization.streamSource == "source-sha256")
        // what the previous default wrote for a/0-speech.wav: the same file keyed by its relative path
        let old = try CLI.run(["convert", input + "/a/0-speech.wav", out + "/a/0-speech.f32", "--seed", "2",
                               "--key", "a/0-speech.wav", "--hash-output", "--force", "-q"])
        #expect(old.status == 0, "\(old.stderr)")
        #expect(try bytes(out + "/a/0-speech.f32") != current["a/0-speech.f32"])
        let rerun = try CLI.run(["convert", input, out, "--seed", "2"])
        #expect(rerun.status == 0 && rerun.stderr.contains("1 ok, 7 skipped"), "\(rerun.stderr)")
        #expect(try treeBytes(out) == current)
    }

    /// SIGKILL at an arbitrary moment leaves no output that looks complete but is not; a re-run
    /// cleans the leftovers and ends with the same bytes as an uninterrupted run.
    @Test func killedRunsLeaveNoPartialOutputs() throws {
        let dir = try TempDir()
        let input = try corpus(dir, copies: 12)
        #expect(try CLI.run(["convert", input, dir.file("clean"), "-q", "--jobs", "2"]).status == 0)
        let clean = try treeBytes(dir.file("clean"))
        for delay in [0.05, 0.2, 0.4] {
            let out = dir.file("killed-\(delay)")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = ["convert", input, out, "-q", "--jobs", "2"]
            p.standardError = FileHandle.nullDevice
            try p.run()
            Thread.sleep(forTimeInterval: delay)
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            // every output present is complete: its bytes equal the clean run's
            for (rel, data) in try treeBytes(out) { #expect(data == clean[rel], "\(rel) is partial after kill at \(delay) s") }
            #expect(try CLI.run(["convert", input, out, "-q", "--jobs", "2"]).status == 0)
            #expect(try treeBytes(out) == clean)
            let leftovers = FileManager.default.enumerator(atPath: out)!.compactMap { $0 as? String }
                .filter { AtomicOutput.isLeftover(($0 as NSString).lastPathComponent) }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func concurrentRunsOnOneFolderDoNotCorruptEachOther() throws {
        let dir = try TempDir()
        let input = try corpus(dir, copies: 8)
        #expect(try CLI.run(["convert", input, dir.file("clean"), "-q"]).status == 0)
        let clean = try treeBytes(dir.file("clean"))
        let out = dir.file("shared")
        let runs = (0..<2).map { _ in Process() }
        for p in runs {
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = ["convert", input, out, "-q", "--jobs", "2"]
            p.standardError = FileHandle.nullDevice
            try p.run()
        }
        for p in runs { p.waitUntilExit(); #expect(p.terminationStatus == 0) }
        #expect(try treeBytes(out) == clean)
        let final = try CLI.run(["convert", input, out])
        #expect(final.stderr.contains("0 ok, 64 skipped, 0 failed"), "\(final.stderr)")
    }

    @Test func staleLeftoversOfDeadProcessesAreCleaned() throws {
        let dir = try TempDir()
        let input = try corpus(dir, copies: 1)
        let out = dir.file("out")
        try FileManager.default.createDirectory(atPath: out + "/a", withIntermediateDirectories: true)
        // the highest pid Linux hands out (pid_max 2^22): not a live process in a test run
        let dead: Int32 = 4_194_303
        let tmp = out + "/a/.0-speech.f32.json\(AtomicOutput.tempMarker)\(dead)-1-\(AtomicOutput.hostTag)"
        try Data([0]).write(to: URL(fileURLWithPath: tmp))
        // another host's temporary file is never taken for a dead local process's
        let remote = out + "/a/.x.f32.json\(AtomicOutput.tempMarker)\(dead)-1-0123abcd"
        try Data([0]).write(to: URL(fileURLWithPath: remote))
        // a killed run's part file (nobody holds its lock) is cleaned and redone
        let part = out + "/a/.0-speech.f32" + AtomicOutput.partSuffix
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: part))
        // a live run's part file (locked, here by this test process) is respected
        let live = out + "/a/.0-stereo.f32" + AtomicOutput.partSuffix
        let fd = open(live, O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        defer { close(fd) }
        let r = try CLI.run(["convert", input, out])
        #expect(r.status == 0)
        #expect(r.stderr.contains("1 skipped"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: tmp) && !FileManager.default.fileExists(atPath: part))
        #expect(FileManager.default.fileExists(atPath: remote))
        #expect(FileManager.default.fileExists(atPath: out + "/a/0-speech.f32"))
        #expect(FileManager.default.fileExists(atPath: live) && !FileManager.default.fileExists(atPath: out + "/a/0-stereo.f32"))
        let manifest = try String(decoding: bytes(out + "/manifest-all.jsonl"), as: UTF8.self)
        #expect(manifest.contains("claimed by another run"))
    }

    /// In batch mode a sidecar's `source.path` is the path relative to the corpus root: runs given
    /// the corpus as a relative or an absolute path, from different folders, and shards run from
    /// different folders, write the same sidecars. A single file keeps the path as given.
    @Test func sidecarsRecordTheRelativeSourcePathInBatchMode() throws {
        let dir = try TempDir()
        _ = try corpus(dir, copies: 1)
        try FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
        #expect(try CLI.run(["convert", "in", "rel", "-q"], cwd: dir.path).status == 0)
        #expect(try CLI.run(["convert", dir.file("in") + "/", dir.file("abs"), "-q"], cwd: "/").status == 0)
        #expect(try CLI.run(["convert", "./in", "shards", "--shard", "0/2", "-q"], cwd: dir.path).status == 0)
        #expect(try CLI.run(["convert", "../in", "../shards", "--shard", "1/2", "-q"], cwd: dir.file("sub")).status == 0)
        func sidecars(_ root: String) throws -> [String: Data] {
            var out: [String: Data] = [:]
            for rel in FileManager.default.enumerator(atPath: root)!.compactMap({ $0 as? String }) where rel.hasSuffix(".f32.json") {
                out[rel] = try bytes(root + "/" + rel)
            }
            return out
        }
        let rel = try sidecars(dir.file("rel"))
        #expect(rel.count == 8)
        #expect(try sidecars(dir.file("abs")) == rel)
        #expect(try sidecars(dir.file("shards")) == rel)
        #expect(try Sidecar.load(path: dir.file("abs/b/c/0-stereo.f32.json")).source.path == "b/c/0-stereo.wav")
        #expect(try CLI.run(["convert", "in/a/0-speech.wav", "one.f32", "-q"], cwd: dir.path).status == 0)
        #expect(try Sidecar.load(path: dir.file("one.f32.json")).source.path == "in/a/0-speech.wav")
    }

    /// A run killed on another host while writing a sidecar or the manifest leaves temporary
    /// files that a re-run here removes, because those temporary files are locked claims like the
    /// data's, not names with a PID and a host tag that only their own host may judge. "Another
    /// host": the run has its own UTS namespace and host name. It is killed by SIGXFSZ: a file-size
    /// limit that lets the 64-byte outputs through and stops the sidecar (about 1,220 bytes with
    /// its quantizer record; limit 600) or, with 8 files, the manifest (over 1,600 bytes; limit 1,450).
    @Test(arguments: [(1, 600, ".json."), (8, 1450, "manifest-all")])
    func leftoversOfARunKilledOnAnotherHostAreCleaned(files: Int, limit: Int, leftover: String) throws {
        let dir = try TempDir()
        let input = dir.file("in")
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        for i in 0..<files { try tinyWav(frames: 16).write(to: URL(fileURLWithPath: input + "/tiny\(i).wav")) }
        let out = dir.file("out")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        p.arguments = ["--uts", "/bin/sh", "-c", "hostname other-pod && exec prlimit --fsize=\(limit) \"$@\"", "sh",
                       CLI.binary, "convert", input, out, "--jobs", "1", "-q"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGXFSZ,
                     "needs root (unshare --uts) and prlimit: exit \(p.terminationStatus)")
        let leftovers = { FileManager.default.enumerator(atPath: out)!.compactMap { $0 as? String }
            .filter { AtomicOutput.isLeftover(($0 as NSString).lastPathComponent) } }
        try #require(leftovers().contains { $0.contains(leftover) }, "no \(leftover) leftover: \(leftovers())")
        let r = try CLI.run(["convert", input, out, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(leftovers().isEmpty, "\(leftovers())")
        #expect(try CLI.run(["convert", input, dir.file("clean"), "-q"]).status == 0)
        for i in 0..<files {
            for name in ["tiny\(i).f32", "tiny\(i).f32.json"] {
                #expect(try bytes(out + "/" + name) == bytes(dir.file("clean/" + name)))
            }
        }
    }

    /// The claim of the batch form: one holder at a time; a lock dies with its holder, and a
    /// committed claim leaves nothing but the output.
    @Test func claimsExcludeEachOtherAndLeaveOnlyTheOutput() throws {
        let dir = try TempDir()
        let path = dir.file("o.f32")
        let a = try AtomicOutput(claiming: path)
        #expect(a != nil)
        #expect(try AtomicOutput(claiming: path) == nil)   // a second claimant, even in-process, is refused
        try Data([7]).write(to: URL(fileURLWithPath: a!.writePath))
        try a!.commit()
        #expect(try bytes(path) == Data([7]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["o.f32"])
        var b = try AtomicOutput(claiming: path)
        #expect(b != nil)
        b = nil   // abandoned without commit: the part file goes, the output stays
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.url.path) == ["o.f32"])
        #expect(throws: AudioDQError.self) { _ = try AtomicOutput(claiming: dir.file("missing/o.f32")) }
    }
}

@Suite struct SchedulerScriptTests {
    static let sbatch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Scripts/cluster/slurm-convert.sbatch").path

    /// Runs the Slurm array script as one task with the variables Slurm sets for an array of
    /// `ids` (`SLURM_ARRAY_TASK_MIN/_MAX/_STEP/_COUNT`), plus `extra`.
    func runTask(_ id: Int, of ids: [Int], step: Int = 1, input: String, output: String,
                 extra: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.sbatch]
        p.environment = ["IN": input, "OUT": output, "SEED": "2", "AUDIODQ": CLI.binary, "PATH": "/usr/bin:/bin",
                         "SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "\(ids.min()!)",
                         "SLURM_ARRAY_TASK_MAX": "\(ids.max()!)", "SLURM_ARRAY_TASK_STEP": "\(step)",
                         "SLURM_ARRAY_TASK_COUNT": "\(ids.count)"].merging(extra) { $1 }
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// An offset contiguous array (3-6) produces the same tree as one unsharded run, 24-bit files
    /// (f64 under the default format) included.
    @Test func slurmArrayScriptCoversTheCorpus() throws {
        let dir = try TempDir()
        let input = try BatchTests().corpus(dir, copies: 1)
        try FileManager.default.copyItem(atPath: fixture("speech-s24.wav"), toPath: input + "/a/s24.wav")
        #expect(try CLI.run(["convert", input, dir.file("whole"), "-q", "--seed", "2"]).status == 0)
        for task in 3...6 {
            let r = try runTask(task, of: Array(3...6), input: input, output: dir.file("array"))
            #expect(r.status == 0, "\(r.stderr)")
        }
        let t = BatchTests()
        #expect(try t.treeBytes(dir.file("array")) == t.treeBytes(dir.file("whole")))
        #expect(try bytes(dir.file("array/a/s24.f64")) == bytes(dir.file("whole/a/s24.f64")))
        #expect(FileManager.default.fileExists(atPath: dir.file("array/manifest-3-of-4.jsonl")))
    }

    /// Arrays whose IDs are not every integer from MIN to MAX (a step, a list, a resubmission of
    /// some tasks) do not say how many shards there are: every task exits 64 naming SHARDS and
    /// converts nothing, instead of silently converting a wrong partition.
    @Test func slurmArraysThatAreNotContiguousFailLoudly() throws {
        let dir = try TempDir()
        let input = try BatchTests().corpus(dir, copies: 1)
        let out = dir.file("out")
        for (ids, step) in [([0, 2, 4, 6], 2), ([0, 2, 3], 1), ([1, 3], 2), ([1, 3], 1)] {
            for id in ids {
                let r = try runTask(id, of: ids, step: step, input: input, output: out)
                #expect(r.status == 64, "array \(ids) step \(step): \(r.stderr)")
                #expect(r.stderr.contains("set SHARDS=N"), "\(r.stderr)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        // not an array at all
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [Self.sbatch]
        p.environment = ["IN": input, "OUT": out, "AUDIODQ": CLI.binary, "PATH": "/usr/bin:/bin"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 64)
    }

    /// With SHARDS the task ID is the shard index: tasks 0 and 2 of SHARDS=4, then a
    /// resubmission of 1 and 3, give the unsharded tree; an ID outside 0..<SHARDS exits 64.
    @Test func slurmShardsVariableRedoesExactlyTheGivenShards() throws {
        let dir = try TempDir()
        let input = try BatchTests().corpus(dir, copies: 2)
        #expect(try CLI.run(["convert", input, dir.file("whole"), "-q", "--seed", "2"]).status == 0)
        let t = BatchTests()
        let whole = try t.treeBytes(dir.file("whole"))
        let out = dir.file("array")
        for id in [0, 2] {
            let r = try runTask(id, of: [0, 2], step: 2, input: input, output: out, extra: ["SHARDS": "4"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let half = try t.treeBytes(out)
        #expect(half.count < whole.count && half.allSatisfy { whole[$0.key] == $0.value })
        for id in [1, 3] {
            let r = try runTask(id, of: [1, 3], step: 2, input: input, output: out, extra: ["SHARDS": "4"])
            #expect(r.status == 0 && r.stderr.contains("shard \(id)/4"), "\(r.stderr)")
        }
        #expect(try t.treeBytes(out) == whole)
        for i in 0..<4 { #expect(FileManager.default.fileExists(atPath: out + "/manifest-\(i)-of-4.jsonl")) }
        for (id, shards) in [(4, "4"), (0, "0"), (0, "x")] {
            let r = try runTask(id, of: [id], input: input, output: out, extra: ["SHARDS": shards])
            #expect(r.status == 64 && r.stderr.contains("SHARDS"), "\(r.stderr)")
        }
    }
}

@Suite struct DiskFullTests {
    /// A batch into a 300 KiB tmpfs: the files that fit are complete, the rest fail with "No space
    /// left on device" and leave nothing behind, and the run says so with exit code 1.
    @Test func diskFullMidRunKeepsNoTruncatedOutput() throws {
        let dir = try TempDir()
        let input = try BatchTests().corpus(dir, copies: 1)
        let mnt = dir.file("tiny")
        try FileManager.default.createDirectory(atPath: mnt, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=300k", "tmpfs", mnt]
        try mount.run()
        mount.waitUntilExit()
        try #require(mount.terminationStatus == 0, "this test mounts a small tmpfs and needs root")
        defer {
            let u = Process()
            u.executableURL = URL(fileURLWithPath: "/bin/umount")
            u.arguments = [mnt]
            try? u.run()
            u.waitUntilExit()
        }
        let r = try CLI.run(["convert", input, mnt + "/out", "--jobs", "2", "-q"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        let records = try manifest(mnt + "/out/manifest-all.jsonl")
        #expect(records.count == 8)
        #expect(records.contains { $0.status == .ok } && records.contains { $0.status == .failed })
        for rec in records {
            switch rec.status {
            case .ok:
                let sc = try Sidecar.load(path: rec.output! + ".json")
                #expect(try bytes(rec.output!).count == sc.source.frames * sc.source.channels * 4)
            default:
                #expect(!FileManager.default.fileExists(atPath: rec.output!), "\(rec.output) left behind")
            }
        }
        let leftovers = FileManager.default.enumerator(atPath: mnt)!.compactMap { $0 as? String }.filter { $0.contains(AtomicOutput.tempMarker) }
        #expect(leftovers.isEmpty)
    }
}

/// A 16-bit mono 8 kHz WAV of `frames` samples (a ramp).
func tinyWav(frames: Int) -> Data {
    var d = Data()
    func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { d.append(contentsOf: $0) } }
    func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { d.append(contentsOf: $0) } }
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + 2 * frames)
    d.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16)
    u16(1); u16(1); u32(8000); u32(16000); u16(2); u16(16)
    d.append(contentsOf: Array("data".utf8)); u32(2 * frames)
    for i in 0..<frames { u16((i * 1000) & 0xFFFF) }
    return d
}
