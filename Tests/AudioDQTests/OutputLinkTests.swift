import Foundation
import Testing
@testable import AudioDQ

/// Outputs named through symbolic links and descriptor names: a name of the process's own
/// descriptor is written through the descriptor (in place, no sidecar), a link to a regular
/// file keeps being a link while its target is replaced atomically. Never run with /dev/stdout
/// itself and stdout on a regular file: a broken build would replace the machine's /dev/stdout.
@Suite struct OutputLinkTests {
    let source = fixture("speech-s16.wav")

    /// The bytes `convert` writes to a regular file with the same options, and their sidecar.
    func reference(_ dir: TempDir, format: String = "f32") throws -> Data {
        let out = dir.file("reference." + format)
        let r = try CLI.run(["convert", source, out, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        return try bytes(out)
    }

    func isLink(_ path: String, to target: String) -> Bool {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == target
    }

    @Test(arguments: [false, true])
    func linkToOwnStdoutWritesThroughTheRedirect(force: Bool) throws {
        let dir = try TempDir()
        let expected = try reference(dir)
        let link = dir.file("mystdout")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/self/fd/1")
        let red = dir.file("red.f32")
        let r = try CLI.run(["convert", source, link, "--format", "f32", "-q"] + (force ? ["--force"] : []), stdoutFile: red)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try bytes(red) == expected)
        #expect(isLink(link, to: "/proc/self/fd/1"))
        #expect(!FileManager.default.fileExists(atPath: link + ".json"))
        #expect(dir.entries == ["mystdout", "red.f32", "reference.f32", "reference.f32.json"])
    }

    @Test(arguments: ["/proc/self/fd/1", "/dev/fd/1"])
    func descriptorNamesWriteThroughTheRedirect(name: String) throws {
        let dir = try TempDir()
        let expected = try reference(dir)
        let red = dir.file("red.f32")
        let r = try CLI.run(["convert", source, name, "--format", "f32", "-q"], stdoutFile: red)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try bytes(red) == expected)
    }

    @Test func linkToOwnStdoutOnAPipe() throws {
        let dir = try TempDir()
        let expected = try reference(dir)
        let link = dir.file("mystdout")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/self/fd/1")
        let r = try CLI.run(["convert", source, link, "--format", "f32", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutData == expected)
        #expect(isLink(link, to: "/proc/self/fd/1"))
        #expect(dir.entries == ["mystdout", "reference.f32", "reference.f32.json"])
    }

    /// A WAV through the descriptor (libsndfile on a duplicate of it) is the same file; so is
    /// `restore`'s output, and `report --json`'s.
    @Test func wavRestoreAndReportThroughADescriptorLink() throws {
        let dir = try TempDir()
        let expected = try reference(dir, format: "wav")
        let link = dir.file("out.wav")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/self/fd/1")
        let red = dir.file("red.wav")
        var r = try CLI.run(["convert", source, link, "-q"], stdoutFile: red)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try bytes(red) == expected)

        let back = dir.file("back.wav")
        #expect(try CLI.run(["restore", dir.file("reference.wav"), back]).status == 0)
        r = try CLI.run(["restore", dir.file("reference.wav"), link], stdoutFile: red)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try bytes(red) == bytes(back))

        let json = dir.file("report.json")
        #expect(try CLI.run(["report", source, "--json", json, "-q"]).status == 0)
        r = try CLI.run(["report", source, "--json", "/proc/self/fd/1", "-q"], stdoutFile: dir.file("red.json"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try bytes(dir.file("red.json")) == bytes(json))
        #expect(isLink(link, to: "/proc/self/fd/1"))
    }

    @Test func descriptorNotOpenForWritingIsRefused() throws {
        let dir = try TempDir()
        var r = try CLI.run(["convert", source, "/proc/self/fd/99", "--format", "f32"])
        #expect(r.status == 1)
        #expect(r.stderr == "audiodq: error: /proc/self/fd/99: cannot write: descriptor 99 is not open\n")
        let link = dir.file("in.f32")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/dev/fd/0")
        r = try CLI.run(["convert", source, link])   // the child's stdin: the read end of a pipe
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(link): cannot write: descriptor 0 is open only for reading"))
    }

    /// A link to a regular file (or a dangling one) stays a link; the target is replaced (with
    /// --force) by a rename in its own folder; the sidecar is named after the link.
    @Test func linkToARegularFileReplacesTheTarget() throws {
        let dir = try TempDir()
        let expected = try reference(dir)
        let real = dir.file("real")
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: false)
        try Data("old".utf8).write(to: URL(fileURLWithPath: real + "/t.f32"))
        let link = dir.file("link.f32")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real/t.f32")

        var r = try CLI.run(["convert", source, link, "-q"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("\(link): output exists"))
        #expect(try bytes(real + "/t.f32") == Data("old".utf8))

        r = try CLI.run(["convert", source, link, "-q", "--force"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(isLink(link, to: "real/t.f32"))
        #expect(try bytes(real + "/t.f32") == expected)
        #expect(FileManager.default.fileExists(atPath: link + ".json"))
        #expect(try CLI.run(["restore", link, dir.file("back.wav")]).status == 0)
        #expect(try readBins(dir.file("back.wav")).bins == readBins(source).bins)

        let dangling = dir.file("dangling.f32")
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: real + "/new.f32")
        r = try CLI.run(["convert", source, dangling, "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(isLink(dangling, to: real + "/new.f32"))
        #expect(try bytes(real + "/new.f32") == expected)
        #expect(entries(of: real) == ["new.f32", "t.f32"])
        #expect(dir.entries == ["back.wav", "dangling.f32", "dangling.f32.json", "link.f32", "link.f32.json",
                                "real", "reference.f32", "reference.f32.json"])
    }

    @Test func resolveFollowsChainsAndStopsAtDescriptors() throws {
        let dir = try TempDir()
        let a = dir.file("a"), b = dir.file("b")
        try FileManager.default.createSymbolicLink(atPath: a, withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: b, withDestinationPath: "/dev/stdout")
        #expect(try OutputTarget.resolve(a) == .descriptor(1))
        #expect(try OutputTarget.resolve("/dev/stderr") == .descriptor(2))
        #expect(try OutputTarget.resolve(dir.file("plain")) == .path(dir.file("plain")))
        let loop = dir.file("loop")
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: "loop")
        #expect(throws: AudioDQError.self) { try OutputTarget.resolve(loop) }
    }
}

/// Entries of a folder, sorted.
private func entries(of path: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
}
