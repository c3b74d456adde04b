import Foundation
import Testing
@testable import AudioDQ

@Suite struct OutputFormatTests {
    /// Same seed, same bytes, whatever the chunk size or thread count; another seed or stream
    /// name changes them.
    @Test func bytesDoNotDependOnChunkingOrThreads() throws {
        let dir = try TempDir()
        var reference: Data?
        for (chunk, threads) in [(65536, 1), (1, 1), (1000, 2), (7, 3), (33978, 2)] {
            var o = ConvertOptions(input: fixture("stereo.wav"), output: dir.file("o-\(chunk)-\(threads).npy"))
            o.chunkFrames = chunk
            o.threads = threads
            o.settings.seed = 9
            try Converter.run(o)
            let d = try bytes(o.output)
            if let reference { #expect(d == reference, "chunk \(chunk) threads \(threads)") } else { reference = d }
        }
        var other = ConvertOptions(input: fixture("stereo.wav"), output: dir.file("seed10.npy"))
        other.settings.seed = 10
        try Converter.run(other)
        #expect(try bytes(other.output) != reference)
        var named = ConvertOptions(input: fixture("stereo.wav"), output: dir.file("named.npy"))
        named.settings.seed = 9
        named.settings.streamName = "corpus/stereo.wav"
        try Converter.run(named)
        #expect(try bytes(named.output) != reference)
    }

    @Test func npyHeaderAndLayout() throws {
        let dir = try TempDir()
        try Converter.run(ConvertOptions(input: fixture("stereo.wav"), output: dir.file("s.npy")))
        try Converter.run(ConvertOptions(input: fixture("stereo.wav"), output: dir.file("s.f32")))
        try Converter.run(ConvertOptions(input: fixture("speech.wav"), output: dir.file("m.npy")))
        let d = try bytes(dir.file("s.npy"))
        let h = try NpyHeader.parse([UInt8](d.prefix(256)), path: "s.npy")
        #expect(h.shape == [33978, 2] && h.type == .float32)
        #expect(h.dataOffset % 64 == 0)
        // the data after the header is the raw f32 file, byte for byte
        #expect(d.dropFirst(h.dataOffset) == (try bytes(dir.file("s.f32"))))
        let text = String(decoding: d.prefix(h.dataOffset), as: UTF8.self)
        #expect(text.contains("'descr': '<f4', 'fortran_order': False, 'shape': (33978, 2), }"))
        let m = try NpyHeader.parse([UInt8](try bytes(dir.file("m.npy")).prefix(256)), path: "m.npy")
        #expect(m.shape == [33978])
    }

    /// A version 1.0 header may be longer than NumPy writes it (spaces before the newline, up to
    /// the u16 length): a header padded to 5 KiB, past the first 4 KiB of the file, still parses,
    /// and `restore` gives back the exact source codes.
    @Test func npyHeaderLongerThanFourKiBRestores() throws {
        let dir = try TempDir()
        try Converter.run(ConvertOptions(input: fixture("stereo.wav"), output: dir.file("s.npy")))
        let d = try bytes(dir.file("s.npy"))
        let h = try NpyHeader.parse([UInt8](d.prefix(256)), path: "s.npy")
        var dict = String(decoding: d[10..<h.dataOffset], as: UTF8.self)
        while dict.last == " " || dict.last == "\n" { dict.removeLast() }
        let total = 80 * 64   // data offset 5120, 64-aligned as NumPy wants
        dict += String(repeating: " ", count: total - 10 - dict.utf8.count - 1) + "\n"
        let len = dict.utf8.count
        var padded = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xFF), UInt8(len >> 8)])
        padded += Data(dict.utf8)
        #expect(padded.count == total)
        padded += d.dropFirst(h.dataOffset)
        try padded.write(to: URL(fileURLWithPath: dir.file("long.npy")))
        try FileManager.default.copyItem(atPath: dir.file("s.npy.json"), toPath: dir.file("long.npy.json"))
        let r = try ValueReader(path: dir.file("long.npy"))
        #expect(r.count == 33978 * 2 && r.channels == 2)
        try Restorer.run(RestoreOptions(input: dir.file("long.npy"), output: dir.file("back.wav")))
        #expect(try readBins(dir.file("back.wav")).bins == readBins(fixture("stereo.wav")).bins)
    }

    @Test func wavOutputIsSymmetricFloatByDefault() throws {
        let dir = try TempDir()
        let sc = try Converter.run(ConvertOptions(input: fixture("speech.wav"), output: dir.file("s.wav")))
        #expect(sc.dequantization.range == .symmetric && sc.output.dtype == .float32)
        let r = try ValueReader(path: dir.file("s.wav"))
        #expect(r.channels == 1 && r.sampleRate == 8000 && r.type == .float32 && r.count == 33978)
        var v = [Double](repeating: 0, count: r.count)
        _ = try v.withUnsafeMutableBufferPointer { try r.read(into: $0) }
        #expect(v.min()! >= -1 && v.max()! < 1 && v.min()! < 0)
    }

    /// libsndfile adds a PEAK chunk holding the time of writing to float WAVs by default, so the
    /// same seed gave other bytes a second later: the chunk list must hold nothing time-dependent.
    @Test func wavOutputHoldsNoTimestampedChunk() throws {
        let dir = try TempDir()
        for (i, name) in ["f.wav", "d.wav"].enumerated() {
            var o = ConvertOptions(input: fixture(i == 0 ? "speech.wav" : "speech-s24.wav"), output: dir.file(name))
            o.settings.seed = 3
            try Converter.run(o)
            let b = [UInt8](try bytes(dir.file(name)))
            #expect(String(decoding: b[0..<4], as: UTF8.self) == "RIFF" && String(decoding: b[8..<12], as: UTF8.self) == "WAVE")
            var ids: [String] = [], at = 12
            while at + 8 <= b.count {
                ids.append(String(decoding: b[at..<(at + 4)], as: UTF8.self))
                let size = Int(b[at + 4]) | Int(b[at + 5]) << 8 | Int(b[at + 6]) << 16 | Int(b[at + 7]) << 24
                at += 8 + size + (size & 1)
            }
            #expect(at == b.count, "\(name): chunks do not tile the file")
            #expect(!ids.contains("PEAK"), "\(name): chunks \(ids)")
            #expect(ids.contains("fmt ") && ids.last == "data", "\(name): chunks \(ids)")
        }
    }

    @Test func sidecarDescribesTheOutput() throws {
        let dir = try TempDir()
        var o = ConvertOptions(input: fixture("speech.wav"), output: dir.file("o.f32"))
        o.settings.seed = 123
        try Converter.run(o)
        let sc = try Sidecar.load(path: dir.file("o.f32.json"))
        #expect(sc.schema == "audiodq.sidecar/1" && sc.version == AudioDQVersion.string)
        #expect(sc.source.encoding == .ulaw && sc.source.binCount == 256 && sc.source.sampleRate == 8000)
        #expect(sc.source.channels == 1 && sc.source.frames == 33978 && sc.source.container == "wav")
        #expect(sc.source.sha256 == sha256Hex(try bytes(fixture("speech.wav"))))
        #expect(sc.dequantization.seed == 123 && sc.dequantization.range == .unit && sc.dequantization.method == "uniform")
        #expect(sc.dequantization.decode == "x = floor(y * K)")
        #expect(sc.output.dtype == .float32 && sc.output.format == .f32 && sc.output.layout == "interleaved")
        #expect(sc.output.shape == [33978, 1])
        #expect(sc.output.sha256 == nil)   // output hashing is opt-in for single conversions
    }

    /// The sidecar names the u variant, and with it (generator, seed, stream name, range, dtype)
    /// the values are recomputed bit for bit from the source codes alone.
    @Test func sidecarUVariantReproducesTheBytes() throws {
        let dir = try TempDir()
        let codes = try readBins(fixture("stereo.wav")).bins
        for name in ["o.f32", "o.f64", "o.wav"] {
            var o = ConvertOptions(input: fixture("stereo.wav"), output: dir.file(name))
            o.settings.seed = 77
            if name == "o.wav" { o.settings.dtype = .float64 }
            try Converter.run(o)
            let sc = try Sidecar.load(path: dir.file(name + ".json"))
            let d = sc.dequantization
            #expect(d.uVariant == (sc.output.dtype == .float32 ? "float32-24bit" : "float64-53bit"), "\(name)")
            let rng = CounterRNG(key: NoiseKey(seed: d.seed, name: d.streamName))
            let k = sc.source.binCount
            let (offset, scale) = (d.range.offset(binCount: k), d.range.scale(binCount: k))
            let r = try ValueReader(path: dir.file(name), channels: sc.source.channels)
            var v = [Double](repeating: 0, count: r.count)
            _ = try v.withUnsafeMutableBufferPointer { try r.read(into: $0) }
            var same = 0
            for i in 0..<codes.count {
                let expected: Double
                switch d.uVariant {
                case "float32-24bit":
                    expected = Double(UniformDequantizer.placeFloat(bin: Int32(codes[i]), u24: rng.uniform24(UInt64(i)),
                                                                    offset: Int32(offset), scale: Float(scale)))
                default:
                    expected = UniformDequantizer.place(bin: Int(codes[i]), u: rng.uniform(UInt64(i)), offset: offset,
                                                        scale: scale, as: Double.self)
                }
                if expected.bitPattern == v[i].bitPattern { same += 1 }
            }
            #expect(same == codes.count, "\(name): \(same) of \(codes.count)")
        }
        // sidecars written before the field decode as before
        var json = try JSONSerialization.jsonObject(with: bytes(dir.file("o.f32.json"))) as! [String: Any]
        var dq = json["dequantization"] as! [String: Any]
        #expect(dq.removeValue(forKey: "uVariant") != nil)
        json["dequantization"] = dq
        let old = try JSONSerialization.data(withJSONObject: json)
        #expect(try Sidecar.decode(old, path: "old.json").dequantization.uVariant == nil)
    }

    @Test func outputHashOnRequestMatchesTheBytes() throws {
        let dir = try TempDir()
        for name in ["o.f32", "o.wav", "o.npy"] {
            var o = ConvertOptions(input: fixture("speech.wav"), output: dir.file(name))
            o.hashOutput = true
            try Converter.run(o)
            #expect(try Sidecar.load(path: dir.file(name + ".json")).output.sha256 == sha256Hex(try bytes(dir.file(name))))
        }
    }

    @Test func largeSourcesHashTheSameAcrossPieces() throws {
        // FileHasher reads `FileHasher.pieceBytes` at a time
        let dir = try TempDir()
        var d = Data(count: 2 * FileHasher.pieceBytes + 12345)   // three pieces
        for i in stride(from: 0, to: d.count, by: 97) { d[i] = UInt8(truncatingIfNeeded: i &* 31) }
        try d.write(to: URL(fileURLWithPath: dir.file("big.bin")))
        #expect(try FileHasher.hash(path: dir.file("big.bin")) == sha256Hex(d))
        let small = d.prefix(1000)
        try small.write(to: URL(fileURLWithPath: dir.file("small.bin")))
        #expect(try FileHasher.hash(path: dir.file("small.bin")) == sha256Hex(Data(small)))
    }

    @Test func sha256KnownAnswers() {
        #expect(sha256Hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(sha256Hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Data(repeating: 0x61, count: 1_000_000)   // one million 'a'
        #expect(sha256Hex(long) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // streaming in odd pieces gives the same digest
        var s = SourceHash()
        var i = 0
        while i < long.count { let n = min(777, long.count - i); long[i..<(i + n)].withUnsafeBytes { s.update($0) }; i += n }
        #expect(s.finalizeHex() == sha256Hex(long))
    }

    func sha256Hex(_ d: Data) -> String {
        var s = SourceHash()
        d.withUnsafeBytes { s.update($0) }
        return s.finalizeHex()
    }

    @Test func infoFigures() throws {
        let sweep = try AudioInfo.compute(path: fixture("sweep-s16.wav"))
        #expect(sweep.distinctCodes == 65536 && sweep.codeRange! == [0, 65535])
        #expect(sweep.clippingShare == 2.0 / 65536 && sweep.zeroShare == 1.0 / 65536)
        let silence = try AudioInfo.compute(path: fixture("silence.wav"))
        #expect(silence.distinctCodes == 1 && silence.zeroShare == 1 && silence.frames == 8000 && silence.durationSeconds == 1)
        let clip = try AudioInfo.compute(path: fixture("clipping.wav"))
        #expect(clip.clippingShare > 0.3)
        let mu = try AudioInfo.compute(path: fixture("sweep-ulaw.wav"))
        #expect(mu.zeroShare == 4.0 / 512 && mu.distinctCodes == 256)   // bins 127 and 128, each twice
    }
}
