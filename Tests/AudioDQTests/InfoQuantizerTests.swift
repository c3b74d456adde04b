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
        #expect(e.distinctNonzero == Set(samples.filter { $0 != 0 }).count && e.distinctNonzero >= 32)
        #expect(e.latticeEvidenceBits == e.distinctNonzero)
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
        #expect((e.muLawEvidenceBits ?? 0) >= QuantizerDetection.minimumEvidenceBits)
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

    /// 12 declared valid bits and samples on the 2^4 lattice, but too few distinct values (20) for
    /// the data alone: the header decides. The same samples in a plain WAV stay `container`.
    @Test func declaredValidBitsOfExtensibleWAV() throws {
        let dir = try TempDir()
        let samples: [Int16] = (0..<4000).map { (i: Int) -> Int16 in Int16((i % 20 - 10) * 16 * 37) }
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
        let samples: [Int16] = (0..<4000).map { (i: Int) -> Int16 in Int16((i % 20 - 10) * 16) }
        try Self.wav(samples, extensibleValidBits: validBits).write(to: URL(fileURLWithPath: path))
        let (_, q) = try Self.info(path)
        #expect(q.basis == .container && q.evidence?.declaredValidBits == nil)
    }
}
