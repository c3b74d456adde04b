import Foundation
import Testing
@testable import AudioDQ

@Suite struct RoundTripTests {
    static let fixtures = [
        "speech.wav", "speech-alaw.wav", "speech-u8.wav", "speech-s8.aiff", "speech-s16.flac",
        "speech-ulaw.au", "stereo.wav", "silence.wav", "clipping.wav",
        "sweep-ulaw.wav", "sweep-alaw.au", "sweep-u8.wav", "sweep-s8.au", "sweep-s16.wav",
    ]

    /// convert -> restore gives the source codes bit for bit, for every fixture, range and output
    /// format, and every written value satisfies the decode rule.
    @Test(arguments: fixtures)
    func convertThenRestoreIsExact(_ name: String) throws {
        let dir = try TempDir()
        let source = try readBins(fixture(name))
        let container = name.hasSuffix(".flac") ? "flac" : name.hasSuffix(".aiff") ? "aiff" : name.hasSuffix(".au") ? "au" : "wav"
        for range in DequantRange.allCases {
            for ext in ["f32", "f64", "npy", "wav"] {
                let out = dir.file("y-\(range.rawValue).\(ext)")
                var o = ConvertOptions(input: fixture(name), output: out)
                o.settings.range = range
                o.settings.seed = 11
                let sc = try Converter.run(o)
                #expect(sc.source.frames == source.frames && sc.source.channels == source.channels)
                try checkContract(out, source: source, range: range)
                let back = dir.file("back-\(range.rawValue)-\(ext).\(container)")
                try Restorer.run(RestoreOptions(input: out, output: back))
                let restored = try readBins(back)
                #expect(restored.bins == source.bins, "\(name) \(range) \(ext)")
                #expect(restored.encoding == source.encoding && restored.sampleRate == source.sampleRate)
            }
        }
        #expect(!dir.entries.contains { $0.contains(AtomicOutput.tempMarker) })
    }

    /// Decodes every value of an output with the decode rule and compares with the source bins.
    func checkContract(_ path: String, source: DiscreteSignal, range: DequantRange) throws {
        let r = try ValueReader(path: path, channels: source.channels)
        #expect(r.count == source.bins.count)
        var values = [Double](repeating: 0, count: r.count)
        _ = try values.withUnsafeMutableBufferPointer { try r.read(into: $0) }
        var bad = 0
        for (v, x) in zip(values, source.bins) where range.bin(of: v, binCount: source.binCount) != Int(x) { bad += 1 }
        #expect(bad == 0, "\(path): \(bad) values leave their bin")
    }

    @Test(arguments: ["speech-s24.wav", "speech-s24.flac", "sweep-s24.wav"])
    func twentyFourBitNeedsFloat64(_ name: String) throws {
        let dir = try TempDir()
        let source = try readBins(fixture(name))
        #expect(throws: AudioDQError.self) { try Converter.run(ConvertOptions(input: fixture(name), output: dir.file("y.f32"))) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("y.f32")))
        for ext in ["f64", "npy", "wav"] {
            for range in DequantRange.allCases {
                let out = dir.file("y-\(range).\(ext)")
                var o = ConvertOptions(input: fixture(name), output: out)
                o.settings.range = range
                let sc = try Converter.run(o)
                #expect(sc.output.dtype == .float64)
                try checkContract(out, source: source, range: range)
                let back = dir.file("b-\(range)-\(ext).flac")
                try Restorer.run(RestoreOptions(input: out, output: back))
                #expect(try readBins(back).bins == source.bins)
            }
        }
        var o = ConvertOptions(input: fixture(name), output: dir.file("z.npy"))
        o.settings.dtype = .float32
        #expect(throws: AudioDQError.self) { try Converter.run(o) }
    }

    /// 8-bit PCM restores into any container with an 8-bit flavour: signed sources into WAV (and
    /// RF64, W64, MATLAB 5, VOC) as unsigned, unsigned sources into AU (and FLAC, CAF, NIST, PARIS,
    /// 8SVX) as signed; every bin comes back. Containers with no 8-bit PCM refuse, naming it.
    @Test(arguments: [
        ("sweep-s8.au", ["wav", "rf64", "w64", "mat", "voc", "aiff", "au", "flac", "caf", "sph", "paf", "8svx", "avr", "pvf"]),
        ("sweep-u8.wav", ["au", "flac", "caf", "sph", "paf", "8svx", "pvf", "wav", "aiff", "avr", "voc", "mat"]),
    ])
    func eightBitRestoresInEachContainersOwnFlavour(_ name: String, _ exts: [String]) throws {
        let dir = try TempDir()
        let source = try readBins(fixture(name))
        let y = dir.file("y.f32")
        try Converter.run(ConvertOptions(input: fixture(name), output: y))
        for ext in exts {
            let back = dir.file("back.\(ext)")
            let s = try Restorer.run(RestoreOptions(input: y, output: back))
            let restored = try readBins(back)
            #expect(restored.bins == source.bins, "\(name) -> .\(ext)")
            #expect(restored.encoding == s.encoding && restored.encoding.bits == 8)
        }
        for ext in ["htk", "sf", "wve"] {   // 16-bit or G.711 only
            let back = dir.file("no.\(ext)")
            #expect(throws: AudioDQError.self) { try Restorer.run(RestoreOptions(input: y, output: back)) }
            #expect(!FileManager.default.fileExists(atPath: back))
        }
    }

    /// The same codes with the same noise key give the same values, whatever the container. By
    /// default the key is each file's own SHA-256, so the two files get independent noise.
    @Test func rawInputConvertsLikeItsWav() throws {
        let dir = try TempDir()
        var a = ConvertOptions(input: fixture("speech.wav"), output: dir.file("a.f32"))
        a.settings.seed = 5
        let sidecar = try Converter.run(a)
        var b = ConvertOptions(input: fixture("speech-ulaw.raw"), output: dir.file("b.f32"))
        b.settings.seed = 5
        b.settings.raw = try RawFormat(spec: "ulaw:8000:1")
        b.settings.streamName = sidecar.dequantization.streamName
        try Converter.run(b)
        #expect(try bytes(dir.file("a.f32")) == bytes(dir.file("b.f32")))
        b.settings.streamName = nil
        b.output = dir.file("c.f32")
        try Converter.run(b)
        #expect(try bytes(dir.file("a.f32")) != bytes(dir.file("c.f32")))
    }
}
