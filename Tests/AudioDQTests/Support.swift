import Foundation
import Synchronization
import Testing
@testable import AudioDQ

/// Path of a file in AudioFixtures/.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("AudioFixtures/\(name)").path
}

/// A fresh temporary folder, removed when the value is released.
final class TempDir {
    let url: URL
    var path: String { url.path }
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    /// Every entry of the folder, hidden ones included (to catch temporary leftovers).
    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// Runs the built `audiodq` binary.
struct CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutData: Data
    }

    /// The package's own `audiodq`, next to the test bundle: SwiftPM puts both in
    /// .build/<triple>/<config>/. When it is missing the test records an issue saying so and
    /// gets a path that does not exist (so `run` throws); there is no fallback to another
    /// `audiodq` (on PATH or in a parent folder), which would test some other build.
    static var binary: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        do { return try locate(testBundle: bundle) } catch {
            Issue.record("\(error)")
            return expectedPath(testBundle: bundle)
        }
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "the package's audiodq is not built at \(path) (run swift build --build-tests)" }
    }

    static func expectedPath(testBundle: String) -> String {
        URL(fileURLWithPath: testBundle).deletingLastPathComponent().appendingPathComponent("audiodq").path
    }

    /// `audiodq` in the folder of `testBundle`, or `BinaryMissing`.
    static func locate(testBundle: String) throws -> String {
        let candidate = expectedPath(testBundle: testBundle)
        guard FileManager.default.isExecutableFile(atPath: candidate) else { throw BinaryMissing(path: candidate) }
        return candidate
    }

    @discardableResult
    static func run(_ args: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                      stderr: String(decoding: e, as: UTF8.self), stdoutData: o)
    }
}

extension CLI {
    /// Runs the built `audiodq` with its stdout redirected to the regular file `stdoutFile`
    /// (created empty, as a shell's `> FILE` does); the status and stderr.
    static func run(_ args: [String], stdoutFile: String, cwd: String? = nil) throws -> (status: Int32, stderr: String) {
        guard FileManager.default.createFile(atPath: stdoutFile, contents: nil),
              let out = FileHandle(forWritingAtPath: stdoutFile) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: stdoutFile])
        }
        defer { try? out.close() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self))
    }
}

func readBins(_ path: String, raw: RawFormat? = nil) throws -> DiscreteSignal {
    try CodeReader(path: path, raw: raw).readAll()
}

func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

/// The records of a batch manifest (`manifest-<shard>.jsonl`), one JSON line each, in file order.
func manifest(_ path: String) throws -> [BatchRecord] {
    try String(decoding: bytes(path), as: UTF8.self).split(separator: "\n").map {
        try JSONDecoder().decode(BatchRecord.self, from: Data($0.utf8))
    }
}

/// Collects what a library verb sends to its diagnostics sink, in order.
final class DiagnosticLog: Sendable {
    private let entries = Mutex<[Diagnostic]>([])
    var sink: DiagnosticSink { { d in self.entries.withLock { $0.append(d) } } }
    var all: [Diagnostic] { entries.withLock { $0 } }
}
