import Foundation
import Testing
import DiscreteAudio
@testable import SoundFileIO

/// Path of a file in AudioFixtures/.
func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("AudioFixtures/\(name)").path
}

func readBins(_ name: String, raw: RawFormat? = nil, chunk: Int = 4096) throws -> DiscreteSignal {
    try CodeReader(path: fixture(name), raw: raw).readAll(chunkFrames: chunk)
}

@Suite struct ReadExactTests {
    /// Sweeps hold every code in bin order, then reversed.
    @Test(arguments: [
        ("sweep-ulaw.wav", SampleEncoding.ulaw), ("sweep-ulaw.au", .ulaw), ("sweep-alaw.wav", .alaw),
        ("sweep-alaw.au", .alaw), ("sweep-u8.wav", .pcmU8), ("sweep-s8.au", .pcmS8), ("sweep-s8.aiff", .pcmS8),
        ("sweep-s16.wav", .pcm16), ("sweep-s16.flac", .pcm16), ("sweep-s16.aiff", .pcm16),
    ])
    func sweepsReadEveryCodeInOrder(_ name: String, _ encoding: SampleEncoding) throws {
        let s = try readBins(name, chunk: 1000)
        #expect(s.encoding == encoding)
        let k = encoding.binCount
        let expected: [UInt32] = encoding.bits == 8
            ? (0..<UInt32(k)).map { $0 } + (0..<UInt32(k)).reversed()
            : (0..<UInt32(k)).map { $0 }
        #expect(s.bins == expected)
    }

    @Test func sweep24ReadsSparseCodesExactly() throws {
        let s = try readBins("sweep-s24.wav")
        #expect(s.encoding == .pcm24)
        let expected = Array(stride(from: 0, to: 1 << 24, by: 4099).map(UInt32.init)) + [UInt32((1 << 24) - 1)]
        #expect(s.bins == expected)
    }

    /// The bin tables agree with libsndfile's own G.711 and 8-bit decoding: decoding the bytes in
    /// bin order gives non-decreasing values equal to `BinMap.amplitude`; only mu-law's two zero
    /// codes decode equal.
    @Test(arguments: ["sweep-ulaw.wav", "sweep-alaw.wav", "sweep-u8.wav", "sweep-s8.au", "sweep-ulaw.au", "sweep-alaw.au"])
    func binTablesMatchLibsndfileDecoding(_ name: String) throws {
        let bins = try readBins(name).bins
        let decoded = try CodeReader.decodedShorts(path: fixture(name))
        let map = BinMap(try CodeReader(path: fixture(name)).info.encoding)
        #expect(decoded.count == bins.count)
        var ties = 0
        for i in 1..<256 {
            #expect(decoded[i] >= decoded[i - 1], "bin \(i) decodes below bin \(i - 1)")
            if decoded[i] == decoded[i - 1] { ties += 1 }
        }
        #expect(ties == (map.encoding == .ulaw ? 1 : 0))
        for i in 0..<bins.count {
            #expect(Double(decoded[i]) == map.amplitude(bin: Int(bins[i])) * 32768)
        }
    }

    /// The same speech in every container gives the same bins.
    @Test(arguments: [
        ["speech.wav", "speech-ulaw.au"], ["speech-alaw.wav", "speech-alaw.au"],
        ["speech-s16.wav", "speech-s16.aiff", "speech-s16.au", "speech-s16.flac"],
        ["speech-u8.wav", "speech-s8.aiff", "speech-s8.au", "speech-s8.flac"],
        ["speech-s24.wav", "speech-s24.flac"],
    ])
    func containersAgree(_ names: [String]) throws {
        let first = try readBins(names[0])
        #expect(first.frames > 10000)
        for n in names.dropFirst() {
            let s = try readBins(n, chunk: 777)
            #expect(s.bins == first.bins, "\(n) differs from \(names[0])")
            #expect(s.sampleRate == first.sampleRate)
        }
    }

    @Test func rawFilesNeedAndUseTheirFormat() throws {
        let wav = try readBins("speech.wav")
        #expect(try readBins("speech-ulaw.raw", raw: RawFormat(spec: "ulaw:8000:1")).bins == wav.bins)
        let s16 = try readBins("speech-s16.wav")
        #expect(try readBins("speech-s16be.raw", raw: RawFormat(spec: "s16:8000:1:be")).bins == s16.bins)
        #expect(throws: SoundFileError.self) { try CodeReader(path: fixture("speech-ulaw.raw")) }
        #expect(throws: SoundFileError.invalidRawFormat(spec: "ulaw:0:1", reason: "sample rate must be a positive integer")) {
            try RawFormat(spec: "ulaw:0:1")
        }
    }

    @Test func stereoStaysInterleaved() throws {
        let st = try readBins("stereo.wav")
        let mono = try readBins("speech-s16.wav")
        #expect(st.channels == 2)
        #expect(st.channel(0) == mono.bins)
        #expect(st.channel(1) != mono.bins)
    }

    /// Uncompressed 16-bit and byte-coded files are read directly with `pread` (DirectSamples); every fixture
    /// gives the same bins that way as through libsndfile, in any chunking, in both byte orders.
    @Test(arguments: [
        ("speech.wav", nil, true), ("speech-ulaw.au", nil, true), ("speech-alaw.wav", nil, true),
        ("speech-alaw.au", nil, true), ("speech-s16.wav", nil, true), ("speech-s16.aiff", nil, true),
        ("speech-s16.au", nil, true), ("speech-u8.wav", nil, true), ("speech-s8.aiff", nil, true),
        ("speech-s8.au", nil, true), ("stereo.wav", nil, true), ("silence.wav", nil, true),
        ("clipping.wav", nil, true), ("sweep-s16.wav", nil, true), ("sweep-s16.aiff", nil, true),
        ("sweep-ulaw.wav", nil, true), ("sweep-u8.wav", nil, true), ("sweep-s8.au", nil, true),
        ("speech-ulaw.raw", "ulaw:8000:1", true), ("speech-s16be.raw", "s16:8000:1:be", true),
        ("speech-s16.flac", nil, false), ("speech-s8.flac", nil, false), ("speech-s24.wav", nil, false),
    ] as [(String, String?, Bool)])
    func directReadsEqualLibsndfileReads(_ name: String, _ rawSpec: String?, _ direct: Bool) throws {
        let raw = try rawSpec.map { try RawFormat(spec: $0) }
        let viaLibrary = try CodeReader(path: fixture(name), raw: raw, allowDirect: false).readAll(chunkFrames: 4096)
        for chunk in [1, 333, 65536] {
            let r = try CodeReader(path: fixture(name), raw: raw)
            #expect(r.readsDirectly == direct, "\(name)")
            #expect(try r.readAll(chunkFrames: chunk) == viaLibrary, "\(name) chunk \(chunk)")
        }
    }

    /// Across mapping windows (4 MiB): a file of 3.5 windows of 16-bit samples in both byte
    /// orders reads the same both ways, and a truncated copy is still reported as truncated.
    @Test func directReadsCrossWindowsAndTruncationIsStillFound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-direct-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = DirectSamples.windowBytes * 7 / 4 + 3   // 3.5 windows of 2-byte samples
        var samples = [Int16](repeating: 0, count: frames)
        var x: UInt32 = 12345
        for i in 0..<frames { x = x &* 1664525 &+ 1013904223; samples[i] = Int16(truncatingIfNeeded: x >> 16) }
        let bins = samples.map { UInt32(UInt16(bitPattern: $0) ^ 0x8000) }
        for container in [AudioContainer.wav, .aiff] {
            let ext = container.rawValue
            let path = dir.appendingPathComponent("long.\(ext)").path
            let w = try CodeWriter(path: path, container: container, encoding: .pcm16, sampleRate: 16000, channels: 1)
            try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
            try w.close()
            let r = try CodeReader(path: path)
            #expect(r.readsDirectly)
            let direct = try r.readAll(chunkFrames: 100_003)
            #expect(direct == (try CodeReader(path: path, raw: nil, allowDirect: false).readAll()))
            #expect(direct.bins == bins)
            // a file cut short after it was opened (read directly) is reported, not a crash (SIGBUS)
            let shrink = dir.appendingPathComponent("shrink.\(ext)").path
            try FileManager.default.copyItem(atPath: path, toPath: shrink)
            let s = try CodeReader(path: shrink)
            #expect(s.readsDirectly)
            #expect(truncate(shrink, off_t(DirectSamples.windowBytes + 1000)) == 0)
            #expect(throws: SoundFileError.self) { _ = try s.readAll(chunkFrames: 100_003) }
            // cut off the last 1000 bytes: reported as truncated, never read directly
            let cut = dir.appendingPathComponent("cut.\(ext)").path
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count - 1000).write(to: URL(fileURLWithPath: cut))
            #expect(throws: SoundFileError.self) {   // at open (header check) or at the short read
                let t = try CodeReader(path: cut)
                #expect(!t.readsDirectly)
                _ = try t.readAll()
            }
        }
    }

    /// A file cut short while a window of it is being read (issue #11): the bytes already read
    /// stay good and the rest is reported as truncated; reading from a mapping of the file would
    /// fault (SIGBUS) on the pages the cut removed, whatever was checked when the window was made.
    @Test func fileCutInsideTheWindowBeingReadIsReportedNotACrash() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-cut-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let frames = DirectSamples.windowBytes   // two windows of 2-byte samples
        let bins = (0..<frames).map { UInt32(truncatingIfNeeded: UInt64($0) &* 2_654_435_761 >> 7) & 0xFFFF }
        let path = dir.appendingPathComponent("long.wav").path
        let w = try CodeWriter(path: path, container: .wav, encoding: .pcm16, sampleRate: 16000, channels: 1)
        try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
        try w.close()
        let r = try CodeReader(path: path)
        #expect(r.readsDirectly)
        var chunk = [UInt32](repeating: 0, count: 65536)
        let first = try chunk.withUnsafeMutableBufferPointer { (p) throws(SoundFileError) in try r.read(into: p) }
        #expect(first == 65536 && Array(chunk) == Array(bins[0..<65536]))
        #expect(truncate(path, 1 << 20) == 0)   // inside the first window, past the first chunk
        var got = first
        let error = #expect(throws: SoundFileError.self) {
            while true {
                let n = try chunk.withUnsafeMutableBufferPointer { (p) throws(SoundFileError) in try r.read(into: p) }
                if n == 0 { break }
                #expect(Array(chunk[0..<n]) == Array(bins[got..<(got + n)]))
                got += n
            }
        }
        guard case .truncated? = error else { Issue.record("not reported as truncated: \(String(describing: error))"); return }
    }

    @Test func chunkSizeDoesNotChangeBins() throws {
        let a = try readBins("stereo.wav", chunk: 1)
        let b = try readBins("stereo.wav", chunk: 100_000)
        #expect(a == b)
    }
}
