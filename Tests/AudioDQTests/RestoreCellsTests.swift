import Foundation
import Testing
@testable import AudioDQ
import DiscreteAudio

/// `restore` decodes in the cells the values were dequantized into: the sidecar's, or without a
/// sidecar (a pipe's output, a lost sidecar) `--quantizer`/`--domain` as `convert` spells them,
/// container cells when neither is given.
@Suite struct RestoreCellsTests {
    static func restore(_ args: [String]) throws -> CLI.Result { try CLI.run(["restore"] + args) }

    @Test func latticeValuesWithoutASidecarNeedTheirQuantizer() throws {
        let dir = try TempDir()
        let (codes, wav16, _) = try QuantizerConvertTests.eightBitAudio(dir)
        let y = dir.file("y.f32")
        _ = try QuantizerConvertTests.convert([wav16, y, "-q"])
        #expect(try Sidecar.load(path: y + ".json").dequantization.quantizer?.kind == "lattice")
        try FileManager.default.removeItem(atPath: y + ".json")
        let stored = codes.map { UInt32($0 * 256 + 32768) }
        let bare = ["--encoding", "s16", "--range", "unit", "--rate", "8000", "--channels", "1"]

        var r = try Self.restore([y, dir.file("lattice.wav"), "--quantizer", "lattice:8"] + bare)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try readBins(dir.file("lattice.wav")).bins == stored)

        // without --quantizer: the documented container decode, x = floor(y * 65536)
        r = try Self.restore([y, dir.file("container.wav")] + bare)
        #expect(r.status == 0, "\(r.stderr)")
        let values = try bytes(y).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let container = try readBins(dir.file("container.wav")).bins
        #expect(container == values.map { UInt32((Double($0) * 65536).rounded(.down)) })
        #expect(container != stored)

        // auto without a sidecar is the container default too
        r = try Self.restore([y, dir.file("auto.wav"), "--quantizer", "auto"] + bare)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try readBins(dir.file("auto.wav")).bins == container)
    }

    @Test func givenCellsMustBeTheSidecars() throws {
        let dir = try TempDir()
        let (codes, wav16, _) = try QuantizerConvertTests.eightBitAudio(dir)
        let y = dir.file("y.f64")
        _ = try QuantizerConvertTests.convert([wav16, y, "-q"])
        var r = try Self.restore([y, dir.file("ok.wav"), "--quantizer", "lattice:8"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try readBins(dir.file("ok.wav")).bins == codes.map { UInt32($0 * 256 + 32768) })
        r = try Self.restore([y, dir.file("no.wav"), "--quantizer", "container"])
        #expect(r.status == 64)
        #expect(r.stderr == "audiodq: error: \(y).json: the cells asked for, container, are not the sidecar's, lattice 2^8 (8 of 16 bits) (leave --quantizer/--domain out, or give the sidecar's)\n")
        #expect(!FileManager.default.fileExists(atPath: dir.file("no.wav")))
    }

    /// mu-law in the linear domain, sidecar removed: --domain linear (with or without the law)
    /// gives the bytes back; the code domain's container cells do not.
    @Test func g711LinearDomainWithoutASidecar() throws {
        let dir = try TempDir(), input = fixture("sweep-ulaw.wav"), y = dir.file("lin.f64")
        _ = try QuantizerConvertTests.convert([input, y, "--domain", "linear", "-q"])
        try FileManager.default.removeItem(atPath: y + ".json")
        let source = try readBins(input)
        let bare = ["--encoding", "ulaw", "--range", "unit", "--rate", "\(source.sampleRate)", "--channels", "\(source.channels)"]
        for extra in [["--domain", "linear"], ["--quantizer", "mulaw", "--domain", "linear"]] {
            let out = dir.file("back\(extra.count).wav")
            let r = try Self.restore([y, out] + bare + extra)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(try readBins(out).bins == source.bins, "\(extra)")
        }
        let r = try Self.restore([y, dir.file("code.wav")] + bare)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try readBins(dir.file("code.wav")).bins != source.bins)
        let a = try Self.restore([y, dir.file("alaw.wav"), "--quantizer", "alaw"] + bare)
        #expect(a.status == 1 && a.stderr.contains("quantizer alaw does not fit"), "\(a.stderr)")
    }

    /// --encoding s16 over a G.711 linear-domain sidecar writes the law's levels as 16-bit PCM, the
    /// same for both laws (mu-law's -0 and +0 both become 0; mu-law was refused before: its PCM
    /// cells are 255, the bytes' 256).
    @Test(arguments: [SampleEncoding.alaw, .ulaw])
    func g711LinearDomainExpandsToSixteenBits(law: SampleEncoding) throws {
        let dir = try TempDir(), input = fixture(law == .ulaw ? "sweep-ulaw.wav" : "sweep-alaw.wav")
        let y = dir.file("lin.f64"), out = dir.file("s16.wav")
        _ = try QuantizerConvertTests.convert([input, y, "--domain", "linear", "-q"])
        let r = try Self.restore([y, out, "--encoding", "s16"])
        #expect(r.status == 0, "\(r.stderr)")
        let source = try readBins(input), back = try readBins(out)
        #expect(back.encoding == .pcm16)
        let levels = source.bins.map { b in
            UInt32(32768 + (law == .ulaw ? G711.muLawLinear(G711.muLawByte(Int(b))) : G711.aLawLinear(G711.aLawByte(Int(b)))))
        }
        #expect(back.bins == levels)
        if law == .ulaw { #expect(source.bins.contains(127) || source.bins.contains(128)) }
        // container (code-domain) cells have no 16-bit labels: refused for both laws
        _ = try QuantizerConvertTests.convert([input, dir.file("code.f64"), "-q"])
        let c = try Self.restore([dir.file("code.f64"), dir.file("c.wav"), "--encoding", "s16"])
        #expect(c.status == 1 && c.stderr.contains("cannot hold PCM signed 16-bit codes"), "\(c.stderr)")
    }
}
