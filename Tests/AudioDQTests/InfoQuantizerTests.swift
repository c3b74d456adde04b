import Foundation
import Testing
@testable import AudioDQ

/// `audiodq info` reports the quantizer behind a file (issue #12: detection), in text and JSON.
@Suite struct InfoQuantizerTests {
    /// A mono 16-bit WAV at 8 kHz, written by hand: a plain PCM fmt chunk, or a
    /// WAVE_FORMAT_EXTENSIBLE one (cbSize 22) declaring `validBits`.
    static func wav(_ samples: [Int16], extensibleValidBits: Int? = nil) -> Data {
        var d = Data()
        func u16(_ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)]) }
        func u32(_ v: Int) { u16(v & 0xFFFF); u16(v >> 16 & 0xFFFF) }
        let fmtSize = extensibleValidBits == nil ? 16 : 40
        d.append(contentsOf: Array("RIFF".utf8)); u32(4 + 8 + fmtSize + 8 + 2 * samples.count)
        d.append(contentsOf: Array("WAVEfmt ".utf8)); u32(fmtSize)
        u16(extensibleValidBits == nil ? 1 : 0xFFFE); u16(1); u32(8000); u32(16000); u16(2); u16(16)
        if let v = extensibleValidBits {
            u16(22); u16(v); u32(4)   // cbSize, wValidBitsPerSample, dwChannelMask (front centre)
            d.append(contentsOf: [0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
                                  0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71])   // KSDATAFORMAT_SUBTYPE_PCM
        }
        d.append(contentsOf: Array("data".utf8)); u32(2 * samples.count)
        for s in samples { u16(Int(UInt16(bitPattern: s))) }
        return d
    }

    /// A decaying 440 Hz tone at 8 kHz (full scale down to quiet), so many distinct levels occur.
    static func tone(count: Int = 8000, amplitude: Double = 32000) -> [Double] {
        (0..<count).map { i in amplitude * exp(-3 * Double(i) / Double(count)) * sin(2 * .pi * 440 * Double(i) / 8000) }
    }

    /// info's text line and its JSON `quantizer` object for `path`.
    static func info(_ path: String) throws -> (line: String, q: QuantizerInfo) {
        let text = try CLI.run(["info", path])
        #expect(text.status == 0, "\(text.stderr)")
        let line = text.stdout.split(separator: "\n").first { $0.hasPrefix("  quantizer   ") }.map(String.init) ?? ""
        let json = try CLI.run(["info", path, "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        let decoded = try JSONDecoder().decode([AudioInfo].self, from: json.stdoutData)
        #expect(json.stdout.contains("\"quantizer\" : {"), "\(json.stdout)")
        return (line, try #require(decoded.first).quantizer)
    }

    @Test func eightBitsInSixteenIsTheLattice() throws {
        let dir = try TempDir(), path = dir.file("x256.wav")
        let samples = Self.tone().map { Int16(($0 / 256).rounded(.down)) * 256 }
        try Self.wav(samples).write(to: URL(fileURLWithPath: path))
        let (line, q) = try Self.info(path)
        #expect(line.hasPrefix("  quantizer   lattice 2^8 (8 of 16 bits): every sample is a multiple of 2^8 ("), "\(line)")
        #expect(q.kind == "lattice" && q.stepLog2 == 8 && q.bitsUsed == 8 && q.basis == .lattice)
        let e = try #require(q.evidence)
        #expect(e.samples == samples.count && e.commonStepLog2 == 8 && e.declaredValidBits == nil)
        #expect(e.distinctNonzero == Set(samples.filter { $0 != 0 }).count)
        #expect(e.distinctMagnitudes == Set(samples.filter { $0 != 0 }.map { abs(Int($0)) }).count)
        #expect(e.latticeEvidenceBits == 8 * e.independentValues && e.latticeEvidenceBits >= 40)
        #expect(e.requiredEvidenceBits == 40)
    }

    @Test func muLawExpandedToSixteenBitsIsG711() throws {
        let dir = try TempDir(), path = dir.file("ulaw16.wav")
        let cells = G711Cells.ulaw
        let samples = Self.tone().map { x -> Int16 in
            let bin = Int(cells.binOfValue[Int(x.rounded(.down)) + 32768])
            return Int16(cells.levels[bin])
        }
        try Self.wav(samples).write(to: URL(fileURLWithPath: path))
        let (line, q) = try Self.info(path)
        #expect(line.hasPrefix("  quantizer   mu-law cells (linear, in PCM signed 16-bit, x1): every sample is a mu-law level at scale 1 ("), "\(line)")
        #expect(q.kind == "g711-linear" && q.law == .ulaw && q.basis == .g711Levels && q.stepLog2 == nil)
        let e = try #require(q.evidence)
        #expect(e.offMuLawLevels == 0 && (e.offALawLevels ?? 0) > 0)
        #expect((e.muLawEvidenceBits ?? 0) >= QuantizerDetection.requiredEvidenceBits)
    }

    @Test func fullResolutionSpeechIsTheContainer() throws {
        let (line, q) = try Self.info(fixture("speech-s16.wav"))
        #expect(line == "  quantizer   container: the samples use every bit (odd values occur)", "\(line)")
        #expect(q.kind == "container" && q.basis == .container && q.evidence?.commonStepLog2 == 0)
        #expect(q.evidence?.declaredValidBits == nil)
    }

    @Test func g711BytesAreTheirOwnQuantizer() throws {
        let (line, q) = try Self.info(fixture("speech-ulaw.au"))
        #expect(line.hasPrefix("  quantizer   container: the file holds "), "\(line)")
        #expect(q.kind == "container" && q.basis == .container && q.evidence == nil)
    }

    /// 12 declared valid bits and samples on the 2^4 lattice, but too few distinct values (10: 5
    /// magnitudes, 20 bits of evidence) for the data alone: the header decides. The same samples
    /// in a plain 16-bit WAV stay `container`.
    @Test func declaredValidBitsOfExtensibleWAV() throws {
        let dir = try TempDir()
        let samples: [Int16] = (0..<4000).map { (i: Int) -> Int16 in Int16((i % 10 - 5) * 16 * 37) }
        let ext = dir.file("valid12.wav"), plain = dir.file("plain.wav")
        try Self.wav(samples, extensibleValidBits: 12).write(to: URL(fileURLWithPath: ext))
        try Self.wav(samples).write(to: URL(fileURLWithPath: plain))
        let (line, q) = try Self.info(ext)
        #expect(line == "  quantizer   lattice 2^4 (12 of 16 bits): the header declares 12 valid bits and every sample is a multiple of 2^4", "\(line)")
        #expect(q.kind == "lattice" && q.stepLog2 == 4 && q.bitsUsed == 12 && q.basis == .declaredValidBits)
        #expect(q.evidence?.declaredValidBits == 12)
        let (_, p) = try Self.info(plain)
        #expect(p.basis == .container && p.evidence?.declaredValidBits == nil)
    }

    /// A declaration the samples contradict (odd values with 12 valid bits) is ignored and said.
    @Test func contradictedDeclarationIsIgnored() throws {
        let dir = try TempDir(), path = dir.file("liar.wav")
        let samples: [Int16] = (0..<4000).map { (i: Int) -> Int16 in Int16((i % 20 - 10) * 16 + i % 2) }
        try Self.wav(samples, extensibleValidBits: 12).write(to: URL(fileURLWithPath: path))
        let (line, q) = try Self.info(path)
        #expect(q.basis == .container && q.evidence?.declaredValidBits == 12)
        #expect(line.hasSuffix("; the header's 12 valid bits are contradicted (samples use the low 4 bits)"), "\(line)")
    }

    /// wValidBitsPerSample 0 (unknown) or above the container's 16 bits is not a declaration:
    /// info still works and reports none (the detector would refuse 20 of 16 bits).
    @Test(arguments: [0, 20]) func unusableDeclarationIsLeftOut(validBits: Int) throws {
        let dir = try TempDir(), path = dir.file("odd.wav")
        let samples: [Int16] = (0..<4000).map { (i: Int) -> Int16 in Int16((i % 10 - 5) * 16) }
        try Self.wav(samples, extensibleValidBits: validBits).write(to: URL(fileURLWithPath: path))
        let (_, q) = try Self.info(path)
        #expect(q.basis == .container && q.evidence?.declaredValidBits == nil)
    }

    /// A plain WAVE_FORMAT_PCM file (16-byte fmt chunk) at 8 kHz whose wBitsPerSample is
    /// `bitsPerSample`, stored in `bytes` bytes per sample, `channels` interleaved, as SciPy's
    /// test-8000Hz-le-*-12bit/5bit/20bit files are. `samples` are the stored integers (8-bit:
    /// unsigned bytes, 128 = 0).
    static func plainWAV(_ samples: [Int], bitsPerSample: Int, bytes: Int, channels: Int) -> Data {
        var d = Data()
        func u16(_ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)]) }
        func u32(_ v: Int) { u16(v & 0xFFFF); u16(v >> 16 & 0xFFFF) }
        let dataBytes = bytes * samples.count
        d.append(contentsOf: Array("RIFF".utf8)); u32(4 + 8 + 16 + 8 + dataBytes + dataBytes % 2)
        d.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16)
        u16(1); u16(channels); u32(8000); u32(8000 * channels * bytes); u16(channels * bytes); u16(bitsPerSample)
        d.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        for s in samples {
            let v = bytes == 1 ? s + 128 : s
            for i in 0..<bytes { d.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
        }
        if dataBytes % 2 == 1 { d.append(0) }
        return d
    }

    /// A mono 16-bit AIFF at 8 kHz whose COMM sampleSize is `sampleSize` (samples big-endian).
    static func aiff(_ samples: [Int16], sampleSize: Int) -> Data {
        var d = Data()
        func u16(_ v: Int) { d.append(contentsOf: [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]) }
        func u32(_ v: Int) { u16(v >> 16 & 0xFFFF); u16(v & 0xFFFF) }
        d.append(contentsOf: Array("FORM".utf8)); u32(4 + 8 + 18 + 8 + 8 + 2 * samples.count)
        d.append(contentsOf: Array("AIFFCOMM".utf8)); u32(18)
        u16(1); u32(samples.count); u16(sampleSize)
        d.append(contentsOf: [0x40, 0x0B, 0xFA, 0, 0, 0, 0, 0, 0, 0])   // 8000 as 80-bit extended
        d.append(contentsOf: Array("SSND".utf8)); u32(8 + 2 * samples.count); u32(0); u32(0)
        for s in samples { u16(Int(UInt16(bitPattern: s))) }
        return d
    }

    /// Samples of `channels` interleaved tones on a 2^k lattice (`step` = 2^k), few enough distinct
    /// values that the data alone is not evidence (9 levels: 4 magnitudes), or, with `offLattice`,
    /// one sample per 97 moved off it by 1.
    static func coarse(count: Int, step: Int, offLattice: Bool = false) -> [Int] {
        (0..<count).map { i in step * ((i * 5) % 9 - 4) + (offLattice && i % 97 == 3 ? 1 : 0) }
    }

    /// SciPy's plain fmt chunks with wBitsPerSample 12 (16-bit container), 5 (8-bit) and 20
    /// (24-bit): the declaration gives lattices 2^4, 2^3 and 2^4 when the samples obey it (they
    /// are left-justified), and is contradicted, and said, when one sample does not.
    @Test(arguments: [(12, 2, 4), (5, 1, 5), (20, 3, 9)])
    func plainFmtBitsPerSampleIsADeclaration(bits: Int, bytes: Int, channels: Int) throws {
        let dir = try TempDir(), k = 8 * bytes - bits
        let good = dir.file("good\(bits).wav"), bad = dir.file("bad\(bits).wav")
        try Self.plainWAV(Self.coarse(count: 9 * channels * 20, step: 1 << k), bitsPerSample: bits, bytes: bytes, channels: channels)
            .write(to: URL(fileURLWithPath: good))
        try Self.plainWAV(Self.coarse(count: 9 * channels * 20, step: 1 << k, offLattice: true), bitsPerSample: bits,
                          bytes: bytes, channels: channels).write(to: URL(fileURLWithPath: bad))
        let (line, q) = try Self.info(good)
        #expect(line == "  quantizer   lattice 2^\(k) (\(bits) of \(8 * bytes) bits): the header declares \(bits) valid bits and every sample is a multiple of 2^\(k)", "\(line)")
        #expect(q.basis == .declaredValidBits && q.stepLog2 == k && q.evidence?.declaredValidBits == bits)
        #expect((q.evidence?.latticeEvidenceBits ?? 99) < QuantizerDetection.requiredEvidenceBits)
        let (badLine, p) = try Self.info(bad)
        #expect(p.basis == .container && p.evidence?.declaredValidBits == bits)
        #expect(badLine.hasSuffix("; the header's \(bits) valid bits are contradicted (samples use the low \(k) bits)"), "\(badLine)")
    }

    /// An AIFF whose COMM sampleSize is 12 holds 12-bit audio in 16 bits; sampleSize 16 declares
    /// nothing narrower than the container.
    @Test func aiffSampleSizeIsADeclaration() throws {
        let dir = try TempDir()
        let samples = Self.coarse(count: 900, step: 16).map { Int16($0) }
        let twelve = dir.file("twelve.aiff"), sixteen = dir.file("sixteen.aiff"), liar = dir.file("liar.aiff")
        try Self.aiff(samples, sampleSize: 12).write(to: URL(fileURLWithPath: twelve))
        try Self.aiff(samples, sampleSize: 16).write(to: URL(fileURLWithPath: sixteen))
        try Self.aiff(Self.coarse(count: 900, step: 16, offLattice: true).map { Int16($0) }, sampleSize: 12)
            .write(to: URL(fileURLWithPath: liar))
        let (line, q) = try Self.info(twelve)
        #expect(line == "  quantizer   lattice 2^4 (12 of 16 bits): the header declares 12 valid bits and every sample is a multiple of 2^4", "\(line)")
        #expect(q.basis == .declaredValidBits && q.evidence?.declaredValidBits == 12)
        let (_, s) = try Self.info(sixteen)
        #expect(s.basis == .container && s.evidence?.declaredValidBits == nil)
        let (_, l) = try Self.info(liar)
        #expect(l.basis == .container && l.evidence?.declaredValidBits == 12 && l.reason.contains("contradicted"))
    }
}
