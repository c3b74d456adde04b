import Foundation
import Testing
@testable import AudioDQ

/// An output and its sidecar are committed as a group (issue #11): a sidecar at its destination
/// always describes the data next to it, a failed rename leaves neither, and with durable
/// commits (the default) every file is flushed before any rename and the folder after them.
@Suite(.serialized) struct OutputGroupTests {
    /// Runs `body` with `dir` watched by `AtomicOutput.probe`, renames onto `failing` made to fail;
    /// returns the logged steps.
    func watched(_ dir: TempDir, failing: Set<String> = [], _ body: () throws -> Void) rethrows -> [String] {
        AtomicOutput.probe.withLock { $0[dir.path] = .init(failing: failing) }
        defer { AtomicOutput.probe.withLock { $0[dir.path] = nil } }
        try body()
        return AtomicOutput.probe.withLock { $0[dir.path]!.log }
    }

    func options(_ dir: TempDir) -> ConvertOptions {
        ConvertOptions(input: fixture("speech.wav"), output: dir.file("out.f32"))
    }

    @Test func failedSidecarRenameLeavesNoOutput() throws {
        let dir = try TempDir()
        let o = options(dir)
        _ = watched(dir, failing: [Sidecar.path(for: o.output)]) {
            #expect(throws: AudioDQError.self) { try Converter.run(o) }
        }
        #expect(dir.entries == [], "left behind: \(dir.entries)")
    }

    /// With --force over an earlier pair, the old sidecar must not survive to vouch for new data
    /// (or for none): a failed commit leaves no sidecar at all.
    @Test func failedSidecarRenameLeavesNoStaleSidecar() throws {
        let dir = try TempDir()
        var o = options(dir)
        try Converter.run(o)
        o.settings.seed = 7
        o.force = true
        _ = watched(dir, failing: [Sidecar.path(for: o.output)]) {
            #expect(throws: AudioDQError.self) { try Converter.run(o) }
        }
        #expect(!dir.entries.contains("out.f32.json"), "a sidecar survived: \(dir.entries)")
        #expect(dir.entries.allSatisfy { !AtomicOutput.isLeftover($0) }, "temporary files left: \(dir.entries)")
    }

    /// The order of file-system steps of one conversion over an earlier pair.
    @Test func commitOrder() throws {
        let dir = try TempDir()
        var o = options(dir)
        try Converter.run(o)
        o.force = true
        let log = try watched(dir) { try Converter.run(o) }
        let durable = AtomicOutput.durable
        let flushes = durable ? ["fsync out.f32", "fsync out.f32.json"] : []
        #expect(log == flushes + ["unlink out.f32.json", "rename out.f32"] + (durable ? ["fsyncdir"] : [])
                + ["rename out.f32.json"] + (durable ? ["fsyncdir"] : []))
        #expect(dir.entries == ["out.f32", "out.f32.json"])
    }

    /// A lone output (no sidecar) is flushed before its rename, its folder after it.
    @Test func singleCommitIsFlushed() throws {
        let dir = try TempDir()
        let log = try watched(dir) { try AtomicOutput.write([1, 2, 3], to: dir.file("a.bin"), force: false) }
        #expect(log == (AtomicOutput.durable ? ["fsync a.bin", "rename a.bin", "fsyncdir"] : ["rename a.bin"]))
    }

    /// Batch conversion flushes once, the whole file system, before its manifest; the manifest
    /// is then committed like a single output.
    @Test func batchFlushesOnceBeforeTheManifest() throws {
        let dir = try TempDir()
        let corpus = dir.file("in")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        for name in ["a.wav", "b.wav"] { try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: corpus + "/" + name) }
        let out = dir.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        AtomicOutput.probe.withLock { $0[out] = .init() }
        defer { AtomicOutput.probe.withLock { $0[out] = nil } }
        _ = try BatchConverter.run(BatchOptions(input: corpus, outputDir: out)) { _ in }
        let log = AtomicOutput.probe.withLock { $0[out]!.log }
        let perFile = log.filter { !$0.contains("manifest") && $0 != "syncfs" && $0 != "fsyncdir" }
        #expect(perFile.allSatisfy { !$0.hasPrefix("fsync") }, "\(log)")
        #expect(perFile.filter { $0.hasPrefix("rename") }.count == 4, "\(log)")
        let manifest = "manifest-all.jsonl"
        #expect(Array(log.drop { $0 != "syncfs" }) == (AtomicOutput.durable
            ? ["syncfs", "fsync \(manifest)", "rename \(manifest)", "fsyncdir"] : []), "\(log)")
    }
}
