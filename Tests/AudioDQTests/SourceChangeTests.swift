import Foundation
import Testing
@testable import AudioDQ

/// The sidecar vouches for the bytes converted (issue #11): the source is hashed from the
/// descriptor its samples are read from, and a source that changes between the hash and the last
/// read is refused with one line, leaving no output.
@Suite(.serialized) struct SourceChangeTests {
    /// Converts a copy of speech.wav, running `change(path)` after the hash and before the first
    /// read; returns the error and what is left in the output folder.
    func convert(changing change: @escaping @Sendable (String) -> Void, stream: String? = nil) throws -> (Error?, [String]) {
        let src = try TempDir(), out = try TempDir()
        let input = src.file("in.wav")
        try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: input)
        var o = ConvertOptions(input: input, output: out.file("out.f32"))
        o.settings.streamName = stream
        FileHasher.afterHashingHooks.withLock { $0[input] = { change(input) } }
        defer { FileHasher.afterHashingHooks.withLock { $0[input] = nil } }
        do { try Converter.run(o); return (nil, out.entries) } catch { return (error, out.entries) }
    }

    @Test(arguments: [nil, "named"]) func grownSourceIsRefused(_ stream: String?) throws {
        let (error, left) = try convert(changing: { path in
            let h = FileHandle(forWritingAtPath: path)!
            h.seekToEndOfFile()
            h.write(Data([1, 2, 3, 4]))
            h.closeFile()
        }, stream: stream)
        #expect((error as? AudioDQError)?.description.hasSuffix("in.wav: changed while it was read") == true, "\(String(describing: error))")
        #expect(left == [])
    }

    /// Samples rewritten in place (same size), later than the timestamp granularity.
    @Test func rewrittenSourceIsRefused() throws {
        let (error, left) = try convert(changing: { path in
            usleep(50_000)
            let h = FileHandle(forWritingAtPath: path)!
            h.seek(toFileOffset: 1000)
            h.write(Data(repeating: 0x55, count: 64))
            h.closeFile()
        })
        #expect((error as? AudioDQError)?.description.hasSuffix("in.wav: changed while it was read") == true, "\(String(describing: error))")
        #expect(left == [])
    }

    /// `report` derives its default stream the same way: hashed from the descriptor it reads,
    /// and a source grown between the hash and the last read is refused.
    @Test func reportRefusesAGrownSource() throws {
        let src = try TempDir()
        let input = src.file("in.wav")
        try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: input)
        FileHasher.afterHashingHooks.withLock { $0[input] = {
            let h = FileHandle(forWritingAtPath: input)!
            h.seekToEndOfFile()
            h.write(Data([1, 2, 3, 4]))
            h.closeFile()
        } }
        defer { FileHasher.afterHashingHooks.withLock { $0[input] = nil } }
        #expect {
            _ = try Reporter.run(ReportOptions(original: input))
        } throws: { ($0 as? AudioDQError)?.description.hasSuffix("in.wav: changed while it was read") == true }
    }

    /// The digest is of the file opened for reading, even when the path is replaced meanwhile.
    @Test func digestIsOfTheOpenedFile() throws {
        let dir = try TempDir()
        let input = dir.file("in.wav")
        try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: input)
        let reader = try CodeReader(path: input)
        try FileManager.default.removeItem(atPath: input)
        try FileManager.default.copyItem(atPath: fixture("stereo.wav"), toPath: input)
        #expect(try FileHasher.hash(reader: reader) == FileHasher.hash(path: fixture("speech.wav")))
    }
}
