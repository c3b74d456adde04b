import Foundation
import Testing
import DiscreteAudio
@testable import SoundFileIO

/// Every malformed or unsupported input gets a typed error that names the file.
@Suite struct BadInputTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-bad-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let p = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func speechBytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture("speech.wav")))) }

    func open(_ p: String) -> SoundFileError? {
        do { _ = try CodeReader(path: p).readAll(); return nil } catch { return error }
    }

    @Test func missingDirectoryEmpty() throws {
        #expect(open(dir.appendingPathComponent("nope.wav").path) == .notFound(path: dir.appendingPathComponent("nope.wav").path))
        #expect(open(dir.path) == .isDirectory(path: dir.path))
        let empty = try file("empty.wav", [])
        #expect(open(empty) == .emptyFile(path: empty))
    }

    /// Headerless data that is not whole frames is refused, not cut (libsndfile alone drops the
    /// last byte of 6,613 bytes of stereo mu-law).
    @Test func rawWithAPartialFrameIsRefused() throws {
        let bytes = (0..<6613).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let p = try file("odd.ulaw", bytes)
        let stereo = RawFormat(encoding: .ulaw, sampleRate: 11025, channels: 2)
        #expect(throws: SoundFileError.partialFrame(path: p, bytes: 6613, frameBytes: 2)) {
            try CodeReader(path: p, raw: stereo)
        }
        #expect(SoundFileError.partialFrame(path: p, bytes: 6613, frameBytes: 2).description.contains("6613 bytes"))
        // stereo 16-bit: 4,099 bytes leave 3 bytes of a 4-byte frame
        let q = try file("odd.raw", Array(bytes[0..<4099]))
        #expect(throws: SoundFileError.partialFrame(path: q, bytes: 4099, frameBytes: 4)) {
            try CodeReader(path: q, raw: RawFormat(encoding: .pcm16, sampleRate: 8000, channels: 2))
        }
        // counts of one are singular
        #expect(SoundFileError.partialFrame(path: "odd.ulaw", bytes: 3, frameBytes: 2).description
                == "odd.ulaw: 3 bytes are not whole frames of 2 bytes (1 frame and 1 byte left over)")
        #expect(SoundFileError.partialFrame(path: "odd.ulaw", bytes: 1, frameBytes: 2).description
                == "odd.ulaw: 1 byte is not a whole frame of 2 bytes (0 frames and 1 byte left over)")
        #expect(SoundFileError.partialFrame(path: "odd.raw", bytes: 4099, frameBytes: 4).description
                == "odd.raw: 4099 bytes are not whole frames of 4 bytes (1024 frames and 3 bytes left over)")
        // whole frames still read, every byte
        let mono = try CodeReader(path: p, raw: RawFormat(encoding: .ulaw, sampleRate: 11025, channels: 1)).readAll()
        #expect(mono.bins.count == 6613)
    }

    @Test func textRenamedAndTruncatedHeaderCannotOpen() throws {
        let text = try file("text.wav", Array("this is not audio at all, just words\n".utf8))
        guard case .cannotOpen(let p, _)? = open(text) else { Issue.record("text accepted"); return }
        #expect(p == text)
        let truncated = try file("trunc.wav", Array(try speechBytes().prefix(30)))
        guard case .cannotOpen? = open(truncated) else { Issue.record("truncated header accepted"); return }
    }

    @Test func dataShorterThanDeclaredIsRefused() throws {
        let b = try speechBytes()
        let p = try file("short.wav", Array(b.prefix(b.count - 1000)))
        guard case .inconsistentHeader(let path, let detail)? = open(p) else { Issue.record("accepted"); return }
        #expect(path == p && detail.contains("truncated"))
    }

    /// The header check runs on the descriptor libsndfile reads; one it cannot examine is an
    /// error naming the file (it used to re-open the path and pass silently when that failed).
    @Test func headerCheckThatCannotRunIsAnError() throws {
        let b = try speechBytes()
        let p = try file("short-fd.wav", Array(b.prefix(b.count - 1000)))
        let fd = Glibc.open(p, O_RDONLY)
        #expect(fd >= 0)
        #expect(throws: SoundFileError.self) { try HeaderCheck.verify(fd: fd, path: p, container: .wav) }
        Glibc.close(fd)
        do {
            try HeaderCheck.verify(fd: -1, path: p, container: .wav)   // not a descriptor: fstat fails
            Issue.record("a closed descriptor passed the header check")
        } catch {
            guard case .readFailed(let path, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == p && reason.contains("cannot check the header"))
        }
    }

    @Test func zeroDeclaredDataWithAudioIsRefused() throws {
        var b = try speechBytes()
        // find the data chunk and zero its size
        var pos = 12
        while pos + 8 <= b.count {
            let size = Int(b[pos + 4]) | Int(b[pos + 5]) << 8 | Int(b[pos + 6]) << 16 | Int(b[pos + 7]) << 24
            if Array(b[pos..<(pos + 4)]) == Array("data".utf8) { b[pos + 4] = 0; b[pos + 5] = 0; b[pos + 6] = 0; b[pos + 7] = 0; break }
            pos += 8 + size + (size & 1)
        }
        let p = try file("zero.wav", b)
        guard case .inconsistentHeader(_, let detail)? = open(p) else { Issue.record("accepted"); return }
        #expect(detail.contains("0 data bytes"))
    }

    @Test(arguments: ["float32.wav", "float64.wav"])
    func floatFilesAreAlreadyContinuous(_ name: String) {
        guard case .alreadyContinuous? = open(fixture("refused/\(name)")) else { Issue.record("accepted"); return }
    }

    @Test(arguments: ["gsm.wav", "ima-adpcm.wav", "ms-adpcm.wav", "vorbis.ogg", "pcm32.wav"])
    func codecsAreUnsupported(_ name: String) {
        guard case .unsupportedEncoding(let p, _)? = open(fixture("refused/\(name)")) else { Issue.record("accepted"); return }
        #expect(p.hasSuffix(name))
    }

    @Test func descriptionsAreOneLineNamingTheFile() throws {
        let errors: [SoundFileError] = [
            .notFound(path: "a.wav"), .cannotOpen(path: "a.wav", reason: "x"), .truncated(path: "a.wav", expectedFrames: 2, gotFrames: 1),
            .inconsistentHeader(path: "a.wav", detail: "d"), .alreadyContinuous(path: "a.wav", subtype: "s"),
        ]
        for e in errors {
            #expect(e.description.hasPrefix("a.wav: "))
            #expect(!e.description.contains("\n"))
        }
    }
}
