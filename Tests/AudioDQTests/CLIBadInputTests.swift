import Foundation
import Testing
@testable import AudioDQ

/// Bad input through the real binary: exit 1, one line on stderr naming the file, no output left.
@Suite struct CLIBadInputTests {
    func expectRefused(_ args: [String], naming file: String, saying words: String? = nil, dir: TempDir,
                       outputs: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = dir.entries
        let r = try CLI.run(args)
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("audiodq: error: "), sourceLocation: sourceLocation)
        #expect(r.stderr.contains(file), "\(r.stderr) does not name \(file)", sourceLocation: sourceLocation)
        if let words { #expect(r.stderr.contains(words), "\(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
        for o in outputs { #expect(!FileManager.default.fileExists(atPath: o), "\(o) left behind", sourceLocation: sourceLocation) }
        #expect(dir.entries == before, "leftovers: \(Set(dir.entries).subtracting(before))", sourceLocation: sourceLocation)
    }

    func speech() throws -> Data { try bytes(fixture("speech.wav")) }

    @Test func unreadableInputs() throws {
        let dir = try TempDir()
        let out = dir.file("out.f32")
        let outs = [out, out + ".json"]
        let missing = dir.file("missing.wav")
        try expectRefused(["convert", missing, out], naming: missing, saying: "no such file", dir: dir, outputs: outs)
        let sub = dir.file("folder.wav")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        try expectRefused(["convert", sub, out], naming: sub, saying: "directory", dir: dir, outputs: outs)
        let empty = dir.file("empty.wav")
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        try expectRefused(["convert", empty, out], naming: empty, saying: "empty", dir: dir, outputs: outs)
        let text = dir.file("text.wav")
        try Data("hello, this is a text file\n".utf8).write(to: URL(fileURLWithPath: text))
        try expectRefused(["convert", text, out], naming: text, dir: dir, outputs: outs)
        let header = dir.file("header.wav")
        try speech().prefix(20).write(to: URL(fileURLWithPath: header))
        try expectRefused(["convert", header, out], naming: header, dir: dir, outputs: outs)
        let short = dir.file("short.wav")
        try speech().dropLast(5000).write(to: URL(fileURLWithPath: short))
        try expectRefused(["convert", short, out], naming: short, saying: "truncated", dir: dir, outputs: outs)
        var zeroed = try speech()
        // "data" chunk of speech.wav: locate it and claim 0 bytes
        let range = zeroed.range(of: Data("data".utf8))!
        zeroed.replaceSubrange(range.upperBound..<(range.upperBound + 4), with: [0, 0, 0, 0])
        let zero = dir.file("zero.wav")
        try zeroed.write(to: URL(fileURLWithPath: zero))
        try expectRefused(["convert", zero, out], naming: zero, saying: "0 data bytes", dir: dir, outputs: outs)
    }

    @Test(arguments: [("float32.wav", "already continuous"), ("float64.wav", "already continuous"),
                      ("vorbis.ogg", "Vorbis"), ("gsm.wav", "GSM"), ("ima-adpcm.wav", "ADPCM"), ("ms-adpcm.wav", "ADPCM")])
    func refusedEncodings(_ name: String, _ words: String) throws {
        let dir = try TempDir()
        let out = dir.file("out.npy")
        try expectRefused(["convert", fixture("refused/\(name)"), out], naming: name, saying: words, dir: dir, outputs: [out, out + ".json"])
    }

    @Test func outputProblems() throws {
        let dir = try TempDir()
        let input = dir.file("in.wav")
        try speech().write(to: URL(fileURLWithPath: input))
        let original = try bytes(input)
        // output equal to input (same path, and another spelling of it)
        try expectRefused(["convert", input, input], naming: input, saying: "input", dir: dir, outputs: [])
        try expectRefused(["convert", input, dir.path + "/./in.wav", "--force"], naming: "in.wav", saying: "input", dir: dir, outputs: [])
        #expect(try bytes(input) == original)
        // an existing output is kept unless --force
        let existing = dir.file("exists.f32")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        try expectRefused(["convert", input, existing], naming: existing, saying: "--force", dir: dir, outputs: [existing + ".json"])
        #expect(try bytes(existing) == Data("keep me".utf8))
        #expect(try CLI.run(["convert", input, existing, "--force", "-q"]).status == 0)
        #expect(try bytes(existing).count == 33978 * 4)
        // missing output directory
        let nodir = dir.file("no/such/dir/out.f32")
        try expectRefused(["convert", input, nodir], naming: nodir, saying: "does not exist", dir: dir, outputs: [nodir])
        // unwritable output directory (procfs refuses new files, even for root)
        try expectRefused(["convert", input, "/proc/self/out.f32"], naming: "/proc/self/out.f32", dir: dir, outputs: [])
        // unknown output format
        try expectRefused(["convert", input, dir.file("out.mp3")], naming: "out.mp3", saying: ".f32", dir: dir, outputs: [])
    }

    @Test func fullDisk() throws {
        let dir = try TempDir()
        let r = try CLI.run(["convert", fixture("speech.wav"), "/dev/full", "--format", "f32"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/dev/full") && r.stderr.contains("No space left on device"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        _ = dir
    }

    @Test func streamOutputGetsNoSidecarButSameBytes() throws {
        let dir = try TempDir()
        let r = try CLI.run(["convert", fixture("speech.wav"), "/dev/stdout", "--format", "f32", "-q", "--seed", "4"])
        #expect(r.status == 0)
        #expect(try CLI.run(["convert", fixture("speech.wav"), dir.file("a.f32"), "--seed", "4", "-q"]).status == 0)
        #expect(r.stdoutData == (try bytes(dir.file("a.f32"))))
        #expect(try bytes(dir.file("a.f32")).count == 33978 * 4)
        #expect(!FileManager.default.fileExists(atPath: "/dev/stdout.json"))
    }

    @Test func usageErrorsExit64() throws {
        for args in [["convert"], ["convert", "a.wav", "b.f32", "--threads", "0"], ["convert", "a.wav", "b.f32", "--range", "wide"],
                     ["convert", "a.wav", "b.f32", "--raw", "ulaw:8000"], ["restore", "a.f32", "b.wav", "--encoding", "mp3"],
                     ["nonsense"], ["info"]] {
            let r = try CLI.run(args)
            #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
        }
    }

    @Test func restoreRefusesBadValues() throws {
        let dir = try TempDir()
        let y = dir.file("y.f32")
        #expect(try CLI.run(["convert", fixture("speech.wav"), y, "-q"]).status == 0)
        var d = try bytes(y)
        // sample 1234 becomes NaN, sample 2000 becomes 1.0 (outside [0, 1))
        d.replaceSubrange(1234 * 4..<(1235 * 4), with: withUnsafeBytes(of: Float.nan) { Data($0) })
        try d.write(to: URL(fileURLWithPath: y))
        let out = dir.file("back.wav")
        try expectRefused(["restore", y, out], naming: y, saying: "sample 1234", dir: dir, outputs: [out])
        d.replaceSubrange(1234 * 4..<(1235 * 4), with: withUnsafeBytes(of: Float(0.5)) { Data($0) })
        d.replaceSubrange(2000 * 4..<(2001 * 4), with: withUnsafeBytes(of: Float(1.0)) { Data($0) })
        try d.write(to: URL(fileURLWithPath: y))
        try expectRefused(["restore", y, out], naming: y, saying: "sample 2000", dir: dir, outputs: [out])
        // a container that cannot hold mu-law
        d.replaceSubrange(2000 * 4..<(2001 * 4), with: withUnsafeBytes(of: Float(0.5)) { Data($0) })
        try d.write(to: URL(fileURLWithPath: y))
        try expectRefused(["restore", y, dir.file("back.flac")], naming: "back.flac", saying: "cannot hold", dir: dir, outputs: [dir.file("back.flac")])
        // values whose count disagrees with the sidecar
        try d.dropLast(8).write(to: URL(fileURLWithPath: y))
        try expectRefused(["restore", y, out], naming: y, saying: "sidecar", dir: dir, outputs: [out])
        // no sidecar and no --encoding/--range
        try FileManager.default.removeItem(atPath: y + ".json")
        try expectRefused(["restore", y, out], naming: y, saying: "sidecar", dir: dir, outputs: [out])
    }

    @Test func restoreWithoutSidecarUsesFlags() throws {
        let dir = try TempDir()
        let y = dir.file("y.npy")
        #expect(try CLI.run(["convert", fixture("stereo.wav"), y, "--range", "symmetric", "-q"]).status == 0)
        try FileManager.default.removeItem(atPath: y + ".json")
        let out = dir.file("back.aiff")
        let r = try CLI.run(["restore", y, out, "--encoding", "s16", "--range", "symmetric", "--rate", "8000"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try readBins(out).bins == readBins(fixture("stereo.wav")).bins)
    }

    @Test func infoCommand() throws {
        let r = try CLI.run(["info", "--json", fixture("sweep-alaw.wav"), fixture("stereo.wav")])
        #expect(r.status == 0)
        let arr = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        #expect(arr.count == 2)
        #expect(arr[0]["encoding"] as? String == "alaw" && arr[0]["distinctCodes"] as? Int == 256)
        #expect(arr[1]["channels"] as? Int == 2 && arr[1]["binCount"] as? Int == 65536)
        let bad = try CLI.run(["info", fixture("speech.wav"), "/nonexistent.wav"])
        #expect(bad.status == 1 && bad.stdout.contains("G.711 mu-law") && bad.stderr.contains("/nonexistent.wav"))
    }
}

/// The CLI tests run the package's own build of `audiodq`, never another one.
@Suite struct CLIBinaryTests {
    @Test func onlyTheBinaryNextToTheTestBundleIsUsed() throws {
        let dir = try TempDir()
        let products = dir.file("build/debug")
        try FileManager.default.createDirectory(atPath: products + "/nested", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: products + "/audiodq", contents: Data("#!/bin/sh\n".utf8),
                                               attributes: [.posixPermissions: 0o755]))
        #expect(try CLI.locate(testBundle: products + "/PackageTests.xctest") == products + "/audiodq")
        // an audiodq in a parent folder is some other build
        #expect(throws: CLI.BinaryMissing.self) { try CLI.locate(testBundle: products + "/nested/PackageTests.xctest") }
        // nothing built: an error naming the expected path, no fallback to PATH
        #expect { try CLI.locate(testBundle: dir.file("empty/PackageTests.xctest")) } throws: { error in
            "\(error)".contains(dir.file("empty/audiodq"))
        }
        // and the tests themselves use the package's build
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        #expect(CLI.binary == CLI.expectedPath(testBundle: bundle))
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary))
    }
}
