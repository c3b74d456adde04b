import Foundation
import Testing
import DiscreteAudio
@testable import SoundFileIO

@Suite struct WriteBackTests {
    static let cases: [(String, SampleEncoding, [AudioContainer])] = [
        ("sweep-ulaw.wav", .ulaw, [.wav, .au, .aiff, .raw]),
        ("sweep-alaw.wav", .alaw, [.wav, .au, .aiff, .raw]),
        ("sweep-u8.wav", .pcmU8, [.wav, .raw]),
        ("sweep-s8.au", .pcmS8, [.au, .aiff, .flac, .raw]),
        ("sweep-s16.wav", .pcm16, [.wav, .au, .aiff, .flac, .raw]),
        ("sweep-s24.wav", .pcm24, [.wav, .au, .aiff, .flac, .raw]),
    ]

    @Test func codesSurviveAWriteReadRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-wb-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, encoding, containers) in Self.cases {
            let s = try readBins(name)
            for c in containers {
                let path = dir.appendingPathComponent("out.\(c.rawValue)").path
                let w = try CodeWriter(path: path, container: c, encoding: encoding, sampleRate: s.sampleRate, channels: 1)
                try s.bins.withUnsafeBufferPointer { try w.write(bins: $0) }
                try w.close()
                let raw = c == .raw ? RawFormat(encoding: encoding, sampleRate: s.sampleRate, channels: 1) : nil
                let back = try CodeReader(path: path, raw: raw).readAll()
                #expect(back.encoding == encoding, "\(name) in \(c)")
                #expect(back.bins == s.bins, "\(name) in \(c)")
            }
        }
    }

    @Test(arguments: [(AudioContainer.wav, SampleEncoding.pcmS8), (.au, .pcmU8), (.flac, .ulaw), (.flac, .alaw)])
    func containersThatCannotHoldAnEncodingSaySo(_ c: AudioContainer, _ e: SampleEncoding) {
        #expect(throws: SoundFileError.containerCannotHold(path: "/tmp/never-created", container: c.displayName, encoding: e.displayName)) {
            try CodeWriter(path: "/tmp/never-created", container: c, encoding: e, sampleRate: 8000, channels: 1)
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-created"))
    }
}
