import Foundation
import Testing
@testable import AudioDQ

/// Declared valid bits are read from RF64 and Sony Wave64 headers as from RIFF/WAVE: the same
/// fmt body (WAVE_FORMAT_EXTENSIBLE's wValidBitsPerSample, or a plain wBitsPerSample that is not a
/// multiple of 8) in their own chunk layouts. The files are the RIFF ones of `InfoQuantizerTests`
/// rewritten by hand, and libsndfile must read them as those containers.
@Suite struct WaveFamilyValidBitsTests {
    /// The fmt and data bodies of a RIFF/WAVE file.
    static func chunks(_ riff: Data) -> (fmt: Data, data: Data) {
        let b = [UInt8](riff)
        var pos = 12, fmt = Data(), data = Data()
        while pos + 8 <= b.count {
            let n = Int(b[pos + 4]) | Int(b[pos + 5]) << 8 | Int(b[pos + 6]) << 16 | Int(b[pos + 7]) << 24
            let body = Data(b[(pos + 8)..<min(b.count, pos + 8 + n)])
            switch String(decoding: b[pos..<(pos + 4)], as: UTF8.self) {
            case "fmt ": fmt = body
            case "data": data = body
            default: break
            }
            pos += 8 + n + n % 2
        }
        return (fmt, data)
    }

    static func le(_ v: UInt64, _ bytes: Int) -> Data { Data((0..<bytes).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) }) }

    /// RF64: a "ds64" chunk with the 64-bit sizes, the fmt chunk, then "data" of size
    /// 0xFFFFFFFF.
    static func rf64(_ riff: Data) -> Data {
        let (fmt, data) = chunks(riff)
        let pad = data.count % 2
        let total = 4 + (8 + 28) + (8 + fmt.count) + (8 + data.count + pad)
        let blockAlign = max(1, Int(fmt[12]) | Int(fmt[13]) << 8)
        var d = Data("RF64".utf8)
        d.append(le(0xFFFF_FFFF, 4)); d.append(Data("WAVE".utf8))
        d.append(Data("ds64".utf8)); d.append(le(28, 4)); d.append(le(UInt64(total), 8)); d.append(le(UInt64(data.count), 8))
        d.append(le(UInt64(data.count / blockAlign), 8)); d.append(le(0, 4))
        d.append(Data("fmt ".utf8)); d.append(le(UInt64(fmt.count), 4)); d.append(fmt)
        d.append(Data("data".utf8)); d.append(le(0xFFFF_FFFF, 4)); d.append(data); d.append(Data(repeating: 0, count: pad))
        return d
    }

    /// Sony Wave64: GUID chunks with 64-bit sizes that count their 24-byte headers, 8-byte aligned.
    static func w64(_ riff: Data) -> Data {
        let (fmt, data) = chunks(riff)
        let tail: [UInt8] = [0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A]
        func chunk(_ tag: String, _ body: Data) -> Data {
            var c = Data(tag.utf8)
            c.append(contentsOf: tail); c.append(le(UInt64(24 + body.count), 8)); c.append(body)
            c.append(Data(repeating: 0, count: (8 - body.count % 8) % 8))
            return c
        }
        var rest = Data("wave".utf8)
        rest.append(contentsOf: tail); rest.append(chunk("fmt ", fmt)); rest.append(chunk("data", data))
        var d = Data("riff".utf8)
        d.append(contentsOf: [0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00])
        d.append(le(UInt64(24 + rest.count), 8)); d.append(rest)
        return d
    }

    /// (name, rewrite, what `info` calls the container)
    static let forms: [(String, @Sendable (Data) -> Data, String)] = [
        ("rf64", { rf64($0) }, "container   rf64"), ("w64", { w64($0) }, "container   w64"),
    ]

    @Test(arguments: 0..<2) func extensibleValidBitsInEachForm(form: Int) throws {
        let (name, rewrite, container) = Self.forms[form]
        let dir = try TempDir()
        let samples: [Int16] = (0..<4000).map { (i: Int) -> Int16 in Int16((i % 10 - 5) * 16 * 37) }
        let good = dir.file("valid12.\(name)"), liar = dir.file("liar.\(name)")
        try rewrite(InfoQuantizerTests.wav(samples, extensibleValidBits: 12)).write(to: URL(fileURLWithPath: good))
        let odd = samples.enumerated().map { $0.element + Int16($0.offset % 2) }
        try rewrite(InfoQuantizerTests.wav(odd, extensibleValidBits: 12)).write(to: URL(fileURLWithPath: liar))
        let text = try CLI.run(["info", good])
        #expect(text.status == 0 && text.stdout.contains(container), "\(text.stdout)\(text.stderr)")
        let (line, q) = try InfoQuantizerTests.info(good)
        #expect(line == "  quantizer   lattice 2^4 (12 of 16 bits): the header declares 12 valid bits and every sample is a multiple of 2^4", "\(name): \(line)")
        #expect(q.basis == .declaredValidBits && q.evidence?.declaredValidBits == 12)
        let (_, l) = try InfoQuantizerTests.info(liar)
        #expect(l.basis == .container && l.evidence?.declaredValidBits == 12 && l.reason.contains("contradicted"), "\(name)")
    }

    /// SciPy-style 20-bit audio in 24-bit samples with a plain fmt chunk, in each form.
    @Test(arguments: 0..<2) func plainBitsPerSampleInEachForm(form: Int) throws {
        let (name, rewrite, _) = Self.forms[form]
        let dir = try TempDir(), path = dir.file("twenty.\(name)")
        let riff = InfoQuantizerTests.plainWAV(InfoQuantizerTests.coarse(count: 9 * 20, step: 16), bitsPerSample: 20, bytes: 3, channels: 1)
        try rewrite(riff).write(to: URL(fileURLWithPath: path))
        let (line, q) = try InfoQuantizerTests.info(path)
        #expect(q.basis == .declaredValidBits && q.stepLog2 == 4 && q.evidence?.declaredValidBits == 20, "\(name): \(line)")
    }
}
