import Foundation
import Testing
@testable import AudioDQ

/// `DequantSettings.resolve`, the one place the defaults are decided, for every kind of target.
@Suite struct ResolveTests {
    func resolve(_ fixtureName: String, _ target: DequantSettings.Target,
                 _ change: (inout DequantSettings) -> Void = { _ in }) throws -> ResolvedDequant {
        var settings = DequantSettings()
        change(&settings)
        let info = try CodeReader(path: fixture(fixtureName)).info
        return try settings.resolve(for: DequantSource(path: fixtureName, info: info, raw: nil, sha256: "abc"),
                                    target: target, model: nil)
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
