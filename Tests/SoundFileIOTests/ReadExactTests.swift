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
    try SoundFileReader(path: fixture(name), raw: raw).readAll(chunkFrames: chunk)
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
        let decoded = try SoundFileReader.decodedShorts(path: fixture(name))
        let map = BinMap(try SoundFileReader(path: fixture(name)).info.encoding)
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
        #expect(throws: SoundFileError.self) { try SoundFileReader(path: fixture("speech-ulaw.raw")) }
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

    @Test func chunkSizeDoesNotChangeBins() throws {
        let a = try readBins("stereo.wav", chunk: 1)
        let b = try readBins("stereo.wav", chunk: 100_000)
        #expect(a == b)
    }
}
