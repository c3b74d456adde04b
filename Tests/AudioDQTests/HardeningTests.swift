import Foundation
import Testing
@testable import AudioDQ

/// Replays the fuzzing corpora (Tests/FuzzCorpus, grown by Scripts/fuzz) through the same parsers
/// the libFuzzer targets drive, and pushes a generated corpus of malformed audio through batch
/// conversion.
@Suite struct HardeningTests {
    static let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus").path

    func corpus(_ target: String) -> [String] {
        let dir = Self.corpusRoot + "/" + target
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted().map { dir + "/" + $0 }
            .filter { !FileSystem.isDirectory($0) }
    }

    @Test func sidecarCorpusParsesOrThrows() throws {
        let files = corpus("FuzzSidecar")
        #expect(!files.isEmpty)
        var parsed = 0
        for f in files {
            if (try? Sidecar.decode(try bytes(f), path: f)) != nil { parsed += 1 }
        }
        #expect(parsed >= 1)   // the seed is a real sidecar
    }

    @Test func manifestCorpusStaysInsideTheOutputFolder() throws {
        for f in corpus("FuzzManifest") {
            let text = String(decoding: try bytes(f), as: UTF8.self)
            for e in BatchPlan.parseManifest(text, base: "corpus") {
                #expect(!e.relative.hasPrefix("/") && !e.relative.split(separator: "/").contains(".."), "\(f): \(e.relative)")
            }
        }
        let seed = BatchPlan.parseManifest("a/b.wav\n../up/d.wav\n/abs/c.flac\n./e/./f.au\n# note\n", base: "m")
        #expect(seed.map(\.relative).contains("a/b.wav") && seed.map(\.relative).contains("abs/c.flac") && seed.map(\.relative).contains("e/f.au"))
        #expect(seed.allSatisfy { !$0.relative.contains("..") })
    }

    @Test func valueCorpusReadsOrThrows() throws {
        let dir = try TempDir()
        for f in corpus("FuzzValues") {
            let b = [UInt8](try bytes(f))
            _ = try? NpyHeader.parse(b, path: f)
            for ext in ["npy", "f32"] {
                let p = dir.file("v.\(ext)")
                try Data(b).write(to: URL(fileURLWithPath: p))
                if let r = try? ValueReader(path: p, channels: 1) {
                    var buf = [Double](repeating: 0, count: 4096)
                    while let n = try? buf.withUnsafeMutableBufferPointer({ try r.read(into: $0) }), n > 0 {}
                }
            }
        }
        let h = try NpyHeader.parse([UInt8](try bytes(Self.corpusRoot + "/FuzzValues/stereo-f8.npy")), path: "s")
        #expect(h.shape == [3, 2] && h.type == .float64)
    }

    /// Truncated at every 1/16, header bytes flipped, huge declared sizes, zero channels, absurd
    /// rates: every file is either converted (and restores to the codes libsndfile reads) or
    /// reported; the batch never crashes.
    @Test func malformedAudioCorpusNeverCrashesABatch() throws {
        let dir = try TempDir()
        let root = dir.file("bad")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        var rng: UInt64 = 0x1234
        func next() -> UInt64 { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return rng >> 33 }
        var count = 0
        for name in ["speech.wav", "speech-s16.aiff", "speech-ulaw.au", "speech-s16.flac", "stereo.wav"] {
            let original = [UInt8](try bytes(fixture(name)))
            let ext = (name as NSString).pathExtension
            for k in 1...15 {   // truncated at k/16
                try Data(original.prefix(original.count * k / 16)).write(to: URL(fileURLWithPath: "\(root)/\(name)-trunc\(k).\(ext)"))
                count += 1
            }
            for k in 0..<12 {   // random flips inside the first 64 header bytes
                var b = original
                for _ in 0..<3 { b[Int(next() % 64)] ^= UInt8(truncatingIfNeeded: 1 << (next() % 8)) }
                try Data(b).write(to: URL(fileURLWithPath: "\(root)/\(name)-flip\(k).\(ext)"))
                count += 1
            }
        }
        // WAV header fields set to extremes: data size, channels, sample rate
        let wav = [UInt8](try bytes(fixture("speech-s16.wav")))
        func patched(_ offset: Int, _ value: UInt32, bytes n: Int = 4) -> [UInt8] {
            var b = wav
            for i in 0..<n { b[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
            return b
        }
        let dataAt = (wav.indices.first { i in i + 4 <= wav.count && wav[i..<(i + 4)].elementsEqual("data".utf8) })! + 4
        let variants: [(String, [UInt8])] = [
            ("huge-data", patched(dataAt, 0x7FFF_FFF0)), ("huge-riff", patched(4, 0xFFFF_FFF0)),
            ("zero-channels", patched(22, 0, bytes: 2)), ("many-channels", patched(22, 65535, bytes: 2)),
            ("zero-rate", patched(24, 0)), ("absurd-rate", patched(24, 0xFFFF_FFFF)),
            ("zero-block-align", patched(32, 0, bytes: 2)), ("bits-7", patched(34, 7, bytes: 2)),
        ]
        for (n, b) in variants {
            try Data(b).write(to: URL(fileURLWithPath: "\(root)/\(n).wav"))
            count += 1
        }
        let r = try CLI.run(["convert", root, dir.file("out"), "--jobs", "2", "-q"])
        #expect(r.status == 0 || r.status == 1, "exit \(r.status): \(r.stderr.suffix(2000))")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
        let lines = try String(decoding: bytes(dir.file("out/manifest-all.jsonl")), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == count)
        var converted = 0
        for line in lines {
            let rec = try JSONDecoder().decode(BatchRecord.self, from: Data(line.utf8))
            switch rec.status {
            case .ok:
                converted += 1
                let back = dir.file("back-\(converted).wav")
                try Restorer.run(RestoreOptions(input: rec.output!, output: back))
                #expect(try readBins(back).bins == readBins(rec.source).bins, "\(rec.source)")
            case .failed:
                #expect(rec.error?.isEmpty == false)
                #expect(!FileManager.default.fileExists(atPath: rec.output!))
            case .skipped:
                Issue.record("nothing should be skipped in a fresh run: \(rec.source)")
            }
        }
        #expect(converted > 0 && converted < count)
    }
}

@Suite struct CheckpointCorpusTests {
    /// The corpus holds checkpoint files without their CRC (the fuzz target appends it, see
    /// Scripts/fuzz-targets/Sources/FuzzCheckpoint): each is sealed and decoded as the target
    /// does; the seeds load as a waveform flow, a uniform and a variational model.
    @Test func checkpointCorpusLoadsOrThrows() throws {
        let dir = HardeningTests.corpusRoot + "/FuzzCheckpoint"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).map { dir + "/" + $0 }
        #expect(!files.isEmpty)
        var flows = 0
        var models: Set<DequantMethod> = []
        for f in files where !FileSystem.isDirectory(f) {
            let payload = try bytes(f)
            _ = try? Checkpoint.decode(payload, path: f)
            if let c = try? Checkpoint.decode(Checkpoint.sealed(payload), path: f) {
                let flow = try WaveformFlow(configuration: .init(squeeze: 8, steps: 1, hidden: 4), seed: 0)
                if (try? flow.load(c)) != nil { flows += 1 }
                if let m = try? DequantModel(checkpoint: c, path: f) { models.insert(m.method) }
            }
        }
        #expect(flows >= 1)
        #expect(models == [.uniform, .variational])
    }

    /// Writes the seeds of the fuzz corpus into `dir` (run once; kept for regeneration).
    static func writeSeeds(to dir: String) throws {
        func payload(_ c: Checkpoint, _ name: String) throws {
            try c.encoded().dropLast(4).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        try payload(WaveformFlow(configuration: .init(squeeze: 8, steps: 1, hidden: 4), seed: 1).checkpoint(), "seed-flow")
        let flow = WaveformFlow.Configuration(squeeze: 8, steps: 1, hidden: 4, kernelSize: 3)
        try payload(DequantModel(flow: flow, noise: nil, encoding: .ulaw, sampleRate: 8000, seed: 1).checkpoint(),
                    "seed-uniform-model")
        let q = NoiseFlow.Configuration(layers: 2, hidden: 4, base: .standardLogistic, contextLevels: 2, codeSteps: 128)
        try payload(DequantModel(flow: flow, noise: q, encoding: .pcmU8, sampleRate: 8000, seed: 1).checkpoint(),
                    "seed-variational-model")
    }
}
