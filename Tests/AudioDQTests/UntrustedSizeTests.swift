import Foundation
import Testing
@testable import AudioDQ

/// Sizes read from files or flags are checked before anything is multiplied or allocated: each
/// bad one is a one-line error (or a skipped training file), never a trap.
@Suite struct UntrustedSizeTests {
    /// A copy of the 16-bit FLAC fixture whose STREAMINFO declares `total` samples. STREAMINFO is
    /// the first metadata block: "fLaC", a 4-byte block header, then min/max block size (2 + 2
    /// bytes), min/max frame size (3 + 3), and from byte 18 a 64-bit field of 20 bits sample rate,
    /// 3 bits channels − 1, 5 bits bits per sample − 1 and 36 bits total samples (bytes 21–25).
    static func flac(declaring total: UInt64, at path: String) throws {
        var b = [UInt8](try bytes(fixture("speech-s16.flac")))
        #expect(Array(b[0..<4]) == Array("fLaC".utf8) && b[4] & 0x7F == 0)   // STREAMINFO first
        b[21] = (b[21] & 0xF0) | UInt8(truncatingIfNeeded: total >> 32 & 0x0F)
        for i in 0..<4 { b[22 + i] = UInt8(truncatingIfNeeded: total >> (8 * UInt64(3 - i))) }
        try Data(b).write(to: URL(fileURLWithPath: path))
    }

    /// A FLAC declaring 2^36 − 1 samples (256 GiB of bins) is read as what it holds and then
    /// refused as truncated; `train` skips it with a warning and trains on the rest.
    @Test func flacDeclaringHugeLengthIsSkippedNotAllocated() throws {
        let dir = try TempDir()
        let huge = dir.file("huge.flac")
        try Self.flac(declaring: (1 << 36) - 1, at: huge)
        let info = try CodeReader.probe(path: huge)
        #expect(info.frames == (1 << 36) - 1)
        #expect(throws: SoundFileError.self) { try CodeReader(path: huge).readAll() }
        #expect(throws: SoundFileError.self) { try CodeReader.decodedShorts(path: huge) }
        let log = DiagnosticLog()
        let (corpus, skipped) = try CorpusLoader.load([huge, fixture("speech-s16.wav")], diagnostics: log.sink)
        #expect(skipped == 1 && corpus.sequences.count == 1)
        let warnings = log.all
        #expect(warnings.count == 1 && warnings[0].path == huge, "\(warnings)")
        let r = try CLI.run(["train", huge, fixture("speech-s16.wav"), "--model", dir.file("m.dqm"), "--steps", "1",
                             "--flow-steps", "1", "--hidden", "4", "--segment", "256", "--batch", "2", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: skipping \(huge)"), "\(r.stderr)")
    }

    /// A sidecar whose frames × channels overflows is a bad sidecar (exit 1, one line) in
    /// `restore`, and is not taken as up to date by a batch resume (the file is converted again).
    @Test func sidecarWithOverflowingSizeIsRefused() throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.file("in"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("stereo.wav"), toPath: dir.file("in/stereo.wav"))
        #expect(try CLI.run(["convert", dir.file("in"), dir.file("out"), "-q"]).status == 0)
        let sidecar = dir.file("out/stereo.f32.json")
        let good = try String(decoding: bytes(sidecar), as: UTF8.self)
        #expect(good.contains("\"frames\" : 33978"))
        let bad = good.replacingOccurrences(of: "\"frames\" : 33978", with: "\"frames\" : 4611686018427387904")
        try Data(bad.utf8).write(to: URL(fileURLWithPath: sidecar))
        let r = try CLI.run(["restore", dir.file("out/stereo.f32"), dir.file("back.wav")])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(sidecar) && r.stderr.contains("frames"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("back.wav")))
        let again = try CLI.run(["convert", dir.file("in"), dir.file("out"), "-q"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(decoding: bytes(sidecar), as: UTF8.self).contains("\"frames\" : 33978"))
    }

    /// A checkpoint whose array shape multiplies past Int.max (with a valid CRC) is malformed.
    @Test func checkpointShapeProductOverflowIsMalformed() throws {
        for shape in [[1 << 32, 1 << 32], [3, 1 << 62], [1 << 40]] {
            let header = "{\"architecture\":{},\"arrays\":[{\"name\":\"w\",\"shape\":[\(shape.map(String.init).joined(separator: ","))]}],\"model\":\"x\"}"
            var b = Array("FLWCKPT".utf8) + [0]
            func u32(_ v: UInt32) { b += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
            u32(1)
            u32(UInt32(header.utf8.count))
            b += Array(header.utf8) + [UInt8](repeating: 0, count: 16)
            u32(CRC32.checksum(b))
            do {
                _ = try Checkpoint.decode(Data(b), path: "big.ckpt")
                Issue.record("shape \(shape) accepted")
            } catch let e as FlowEngineError {
                guard case .checkpointMalformed(let p, let reason) = e else { Issue.record("\(e)"); continue }
                #expect(p == "big.ckpt" && reason.contains("runs past the end"), "\(reason)")
            }
        }
    }

    /// Every architecture field of a model file is bounded and every enum code known: a file
    /// that says otherwise is refused with the field and its value, never built or defaulted.
    @Test func modelFileArchitectureIsBoundedAndEnumsAreKnown() throws {
        let dir = try TempDir()
        let model = try DequantModel(flow: .init(squeeze: 8, steps: 1, hidden: 4, kernelSize: 3),
                                     noise: .init(layers: 2, hidden: 4, base: .standardLogistic),
                                     encoding: .pcmU8, sampleRate: 8000, seed: 1)
        let good = model.checkpoint()
        let path = dir.file("m.dqm")
        try good.write(to: path)
        #expect(try DequantModel.load(path: path).method == .variational)
        let cases: [(String, Int)] = [("method", 7), ("noise.base", 5), ("noise.layers", 1_000_000),
                                      ("noise.hidden", 1 << 40), ("noise.contextLevels", 9), ("flow.hidden", 5000),
                                      ("flow.steps", 0), ("sampleRate", -1), ("noise.codeSteps", -2)]
        for (field, value) in cases {
            var c = good
            c.architecture[field] = value
            try c.write(to: path)
            do {
                _ = try DequantModel.load(path: path)
                Issue.record("\(field) = \(value) accepted")
            } catch let e as DequantizationError {
                guard case .badModelField(let p, let f, let v, _) = e else { Issue.record("\(field): \(e)"); continue }
                #expect(p == path && f == field && v == value)
                #expect(e.description.contains(field) && e.description.contains("\(value)"))
            }
        }
        // in range, but more weights than the file carries: refused before anything is built
        var c = good
        c.architecture["flow.hidden"] = 4096
        c.architecture["flow.steps"] = 64
        try c.write(to: path)
        #expect { try DequantModel.load(path: path) } throws: { "\($0)".contains("needs at least") }
        // the CLI: one line, exit 1
        var m = good
        m.architecture["noise.base"] = 2
        try m.write(to: path)
        let r = try CLI.run(["eval", fixture("speech-u8.wav"), "--model", path])
        #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("noise.base is 2"), "\(r.stderr)")
    }

    /// --batch × --segment is bounded in validate() (usage error, exit 64), and by the trainer.
    @Test func batchTimesSegmentIsBounded() throws {
        let dir = try TempDir()
        let r = try CLI.run(["train", fixture("speech.wav"), "--model", dir.file("m.dqm"),
                             "--batch", "\(1 << 50)", "--segment", "\(1 << 20)"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--batch x --segment"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("m.dqm")))
        let model = try DequantModel(flow: .init(squeeze: 8, steps: 1, hidden: 4, kernelSize: 3), noise: nil,
                                     encoding: .ulaw, sampleRate: 8000, seed: 1)
        let corpus = Corpus(encoding: .ulaw, sampleRate: 8000, sequences: [.init(name: "s", bins: [UInt32](repeating: 3, count: 64))])
        var options = Trainer.Hyperparameters()
        options.segment = 16
        options.batch = Int.max / 8
        #expect { try Trainer(model: model, corpus: corpus, hyperparameters: options) } throws: { "\($0)".contains("samples per step") }
    }
}
