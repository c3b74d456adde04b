import Foundation
import Testing
@testable import AudioDQ

/// `DequantSettings.resolve`, the one place the defaults are decided, for every kind of target.
@Suite struct ResolveTests {
    func resolve(_ fixtureName: String, _ target: DequantSettings.Target,
                 _ change: (inout DequantSettings) -> Void = { _ in }) throws -> ResolvedDequant {
        var settings = DequantSettings()
        change(&settings)
        let reader = try CodeReader(path: fixture(fixtureName))
        let detection = settings.needsDetection(reader.info.encoding) ? try SourceScan.detect(reader) : nil
        return try settings.resolve(for: DequantSource(path: fixtureName, info: reader.info, raw: nil, sha256: "abc", detection: detection),
                                    target: target, model: nil)
    }

    /// The quantizer: auto is the detection (which resolve needs), a given one is taken as given
    /// for linear PCM; G.711 bytes follow the domain; what cannot apply is refused.
    @Test func quantizerChoices() throws {
        #expect(try resolve("speech-s16.wav", .file("o.f32")).quantizer == .container(.pcm16))
        #expect(try resolve("speech-s16.wav", .file("o.f32")) { $0.quantizer = .lattice(stepLog2: 4) }.quantizer
                == Quantizer.lattice(.pcm16, stepLog2: 4))
        #expect(try resolve("speech-s16.wav", .file("o.f32")) { $0.quantizer = .alaw }.quantizer
                == Quantizer.g711Linear(.alaw, container: .pcm16))
        #expect(try resolve("speech-ulaw.au", .file("o.f32")).quantizer == .container(.ulaw))
        #expect(try resolve("speech-ulaw.au", .file("o.f32")) { $0.domain = .linear }.quantizer
                == Quantizer.g711Linear(.ulaw, container: .ulaw))
        #expect(try resolve("speech-ulaw.au", .file("o.f32")) { $0.quantizer = .mulaw; $0.domain = .linear }.quantizer
                == Quantizer.g711Linear(.ulaw, container: .ulaw))
        #expect(try resolve("speech-ulaw.au", .file("o.f32")) { $0.quantizer = .mulaw }.quantizer == .container(.ulaw))
        let refused: [(String, (inout DequantSettings) -> Void)] = [
            ("speech-ulaw.au", { $0.quantizer = .lattice(stepLog2: 2) }),
            ("speech-ulaw.au", { $0.quantizer = .alaw }),
            ("speech-ulaw.au", { $0.quantizer = .container; $0.domain = .linear }),
            ("speech-u8.wav", { $0.quantizer = .mulaw }),
            ("speech-s16.wav", { $0.quantizer = .lattice(stepLog2: 16) }),
            ("speech-s16.wav", { $0.quantizer = .lattice(stepLog2: 8); $0.method = .variational }),
        ]
        for (name, change) in refused {
            #expect(throws: AudioDQError.self, "\(name)") { try resolve(name, .file("o.f32"), change) }
        }
        // resolving auto for linear PCM without the detection is an internal error, not a guess
        var settings = DequantSettings()
        settings.quantizer = .auto
        let info = try CodeReader(path: fixture("speech-s16.wav")).info
        #expect(throws: AudioDQError.self) {
            try settings.resolve(for: DequantSource(path: "speech-s16.wav", info: info, raw: nil, sha256: "abc"), target: .file("o.f32"), model: nil)
        }
    }

    @Test func defaultsFollowTheOutputAndTheEncoding() throws {
        let wav = try resolve("speech.wav", .file("o.wav"))
        #expect((wav.format, wav.range, wav.dtype, wav.uVariant) == (.wav, .symmetric, .float32, Sidecar.uVariantFloat32))
        #expect(try resolve("speech.wav", .file("o.wav")) { $0.range = .unit }.range == .unit)
        let npy24 = try resolve("speech-s24.wav", .file("o.npy"))
        #expect((npy24.format, npy24.range, npy24.dtype, npy24.uVariant) == (.npy, .unit, .float64, Sidecar.uVariantFloat64))
        #expect(try resolve("speech.wav", .file("o.bin")) { $0.format = .f64 }.dtype == .float64)
        // a corpus widens 24-bit input to f64 unless a format is given; 16-bit stays f32
        #expect(try resolve("speech-s24.wav", .corpus(stem: "out/a")).format == .f64)
        #expect(try resolve("speech.wav", .corpus(stem: "out/a")).format == .f32)
        #expect(try resolve("speech-s24.wav", .corpus(stem: "out/a")) { $0.format = .npy }.dtype == .float64)
        // values kept by report: raw floats of the dtype asked for, else of the default one
        #expect(try resolve("speech.wav", .values).format == .f32)
        #expect(try resolve("speech.wav", .values) { $0.dtype = .float64 }.format == .f64)
        #expect(try resolve("speech-s24.wav", .values).dtype == .float64)
    }

    @Test func streamAndMethodDefaults() throws {
        let plain = try resolve("speech.wav", .file("o.f32"))
        #expect(plain.stream == .sourceSHA256 && plain.streamName == "abc" && plain.method == .uniform && plain.modelSHA256 == nil)
        let named = try resolve("speech.wav", .file("o.f32")) { $0.streamName = "n"; $0.seed = 4 }
        #expect(named.stream == .given("n") && named.streamName == "n" && named.seed == 4)
        #expect(throws: AudioDQError.self) { try resolve("speech.wav", .file("o.f32")) { $0.method = .variational } }
    }

    @Test func contradictionsAreRefused() throws {
        #expect(throws: AudioDQError.self) { try resolve("speech.wav", .file("o.bin")) }
        #expect(throws: AudioDQError.self) { try resolve("speech.wav", .file("o.f32")) { $0.dtype = .float64 } }
        #expect(throws: AudioDQError.self) { try resolve("speech-s24.wav", .file("o.f32")) }
        #expect(throws: AudioDQError.self) { try resolve("speech-s24.wav", .corpus(stem: "a")) { $0.format = .f32 } }
        #expect(throws: AudioDQError.self) { try resolve("speech-s24.wav", .values) { $0.dtype = .float32 } }
    }
}
