import Foundation
import Synchronization
import Testing
@testable import AudioDQ

/// One diagnostics path: every library error has a kind (and through it an exit code), no flag
/// text of its own (the CLI adds the hint), and warnings reach the caller's sink in order.
@Suite struct DiagnosticsTests {
    /// One value of every case of every module's error enum, with the kind it must have.
    static let everyCase: [(any Error, ErrorKind)] = [
        (AudioDQError.soundFile(.notFound(path: "a.wav")), .input),
        (AudioDQError.outputIsInput(path: "a.wav"), .output),
        (AudioDQError.outputExists(path: "o.f32"), .output),
        (AudioDQError.outputDirectoryMissing(path: "d/o.f32", directory: "d"), .output),
        (AudioDQError.outputIsDirectory(path: "d"), .output),
        (AudioDQError.sameOutput(path: "a.au", first: "a.wav", output: "o/a.f32"), .output),
        (AudioDQError.inputIsFolder(path: "corpus"), .input),
        (AudioDQError.cannotWrite(path: "o.f32", reason: "disk full"), .io),
        (AudioDQError.cannotRead(path: "a.wav", reason: "EIO"), .io),
        (AudioDQError.sourceChanged(path: "a.wav"), .input),
        (AudioDQError.unknownOutputFormat(path: "o.txt", allowed: ".f32, .f64"), .output),
        (AudioDQError.float32CannotHold(path: "a.wav", encoding: "24-bit PCM", output: "o.f32"), .output),
        (AudioDQError.missingSidecar(path: "o.f32", sidecar: "o.f32.json"), .input),
        (AudioDQError.badSidecar(path: "o.f32.json", reason: "no K"), .format),
        (AudioDQError.badValue(path: "o.f32", index: 3, value: 2, reason: "is outside [0, 1)"), .format),
        (AudioDQError.malformed(path: "o.npy", reason: "bad header"), .format),
        (AudioDQError.mismatch(path: "b.wav", detail: "another rate"), .input),
        (AudioDQError.invalidArgument("chunk size and threads must be positive"), .input),
        (AudioDQError.noAudioFiles(inputs: ["empty/"]), .input),
        (AudioDQError.noReadableAudio(files: 2), .input),
        (AudioDQError.dtypeContradictsFormat(path: "o.f32", dtype: .float64, format: .f32), .output),
        (AudioDQError.modelRequired(method: .variational), .usage),
        (AudioDQError.chunkShorterThanModelContext(path: "a.wav", chunkFrames: 10, receptiveField: 56), .model),
        (AudioDQError.noModelToResume(path: "m.dqm"), .model),
        (AudioDQError.conflictsWithModel(path: "m.dqm", setting: .hidden, given: "16", model: "8"), .usage),
        (SoundFileError.notFound(path: "a.wav"), .input),
        (SoundFileError.isDirectory(path: "d"), .input),
        (SoundFileError.emptyFile(path: "a.wav"), .input),
        (SoundFileError.cannotOpen(path: "a.wav", reason: "unknown format"), .format),
        (SoundFileError.alreadyContinuous(path: "a.wav", subtype: "FLOAT"), .input),
        (SoundFileError.unsupportedEncoding(path: "a.wav", subtype: "GSM 6.10"), .format),
        (SoundFileError.unsupportedContainer(path: "a.mid", detail: "MIDI"), .format),
        (SoundFileError.headerlessWithoutFormat(path: "a.raw"), .format),
        (SoundFileError.inconsistentHeader(path: "a.wav", detail: "0 channels"), .format),
        (SoundFileError.partialFrame(path: "a.raw", bytes: 3, frameBytes: 2), .format),
        (SoundFileError.truncated(path: "a.wav", expectedFrames: 10, gotFrames: 5), .format),
        (SoundFileError.readFailed(path: "a.wav", reason: "EIO"), .io),
        (SoundFileError.cannotCreate(path: "o.wav", reason: "EACCES"), .io),
        (SoundFileError.containerCannotHold(path: "o.wav", container: "WAV", encoding: "signed 8-bit"), .output),
        (SoundFileError.writeFailed(path: "o.wav", reason: "ENOSPC"), .io),
        (SoundFileError.invalidRawFormat(spec: "x", reason: "expected encoding:rate:channels[:le|be]"), .usage),
        (DequantizationError.notAModel(path: "m.dqm", found: "RIFF"), .model),
        (DequantizationError.badModelField(path: "m.dqm", field: "squeeze", value: 0, expected: "2...64"), .model),
        (DequantizationError.binCountMismatch(path: "m.dqm", model: 256, data: 65536), .model),
        (DequantizationError.noUsableData(reason: "no sequence is long enough"), .model),
        (DequantizationError.nonFiniteLoss(step: 3, lastCheckpoint: "m.dqm"), .model),
        (DequantizationError.wrongMethod(path: "m.dqm", expected: .variational, found: .uniform), .model),
        (DequantizationError.invalidHyperparameter(name: "segment", value: "48", requirement: "a positive multiple of 32"), .usage),
        (FlowEngineError.sizeMismatch(what: "x", expected: 1, actual: 2), .model),
        (FlowEngineError.invalidShape(what: "x", reason: "odd"), .model),
        (FlowEngineError.invalidConfiguration("hidden 0"), .model),
        (FlowEngineError.backwardWithoutForward("coupling"), .model),
        (FlowEngineError.singularMatrix("W"), .model),
        (FlowEngineError.checkpointIO(path: "m.dqm", reason: "EIO"), .io),
        (FlowEngineError.checkpointBadMagic(path: "m.dqm"), .model),
        (FlowEngineError.checkpointVersion(path: "m.dqm", found: 9, supported: 1), .model),
        (FlowEngineError.checkpointChecksum(path: "m.dqm", stored: 1, computed: 2), .model),
        (FlowEngineError.checkpointMalformed(path: "m.dqm", reason: "short"), .model),
        (FlowEngineError.checkpointArchitecture(expected: "a", found: "b"), .model),
        (FlowEngineError.checkpointArrayMismatch(name: "w", reason: "shape"), .model),
        (FlowEngineError.libraryUnavailable(name: "OpenBLAS", reason: "not found"), .io),
        (SpectralDiagnosticsError.invalidConfig(field: "nperseg", value: "3", requirement: "even"), .usage),
        (SpectralDiagnosticsError.invalidSignal(sampleRate: 0, binCount: 3), .input),
        (SpectralDiagnosticsError.fftPlanFailed(length: 7), .io),
        (SpectralDiagnosticsError.alreadyFinished, .io),
        (SpectralDiagnosticsError.countMismatch(codes: 1, values: 2), .input),
        (SpectralDiagnosticsError.encodingFailed("x"), .io),
        (DiscreteAudioError.needsLinearPCM(.ulaw), .input),
        (DiscreteAudioError.latticeStepOutOfRange(stepLog2: 20, containerBits: 16), .input),
        (DiscreteAudioError.g711ContainerMismatch(law: .ulaw, container: .pcmU8), .input),
        (DiscreteAudioError.validBitsOutOfRange(validBits: 0, containerBits: 16), .input),
    ]

    /// Library texts name no flag: the "use --force", "pass --encoding and --range", "check
    /// --raw" of before are the CLI's hints now (failed before: eleven cases named a flag).
    @Test func libraryDescriptionsNameNoFlag() {
        let flagged = Self.everyCase.map { "\($0.0)" }.filter { $0.contains("--") }
        #expect(flagged.isEmpty, "\(flagged)")
    }

    /// Each error has the kind of the table; one that names a file gives it as `path`, and its
    /// description is `path: detail` (failed before for checkpoint errors, "checkpoint PATH: …").
    @Test func everyErrorHasItsKindPathAndDetail() {
        for (error, kind) in Self.everyCase {
            let d = Diagnostic(error)
            #expect(d.kind == kind, "\(error)")
            if let path = d.path {
                #expect(d.description == "\(path): \(d.detail)", "\(error)")
            } else {
                #expect(d.detail == d.description)
            }
        }
        #expect(Diagnostic(AudioDQError.outputExists(path: "o.f32")).path == "o.f32")
        #expect(Diagnostic(AudioDQError.soundFile(.truncated(path: "a.wav", expectedFrames: 2, gotFrames: 1))).path == "a.wav")
        // an error of no audiodq module is .io without a path
        let other = Diagnostic(CocoaError(.fileReadUnknown))
        #expect(other.kind == .io && other.path == nil)
    }

    /// The built binary: each kind's exit code (usage 64, every other kind 1) and the one-line
    /// `audiodq: error: PATH: problem` format.
    @Test func eachKindExitsWithItsCode() throws {
        let dir = try TempDir()
        let existing = dir.file("exists.f32")
        try Data([1]).write(to: URL(fileURLWithPath: existing))
        let notAudio = dir.file("notes.wav")
        try Data("not audio at all\n".utf8).write(to: URL(fileURLWithPath: notAudio))
        let notAModel = dir.file("m.dqm")
        try Data(repeating: 7, count: 64).write(to: URL(fileURLWithPath: notAModel))
        let missing = dir.file("missing.wav")
        let cases: [(ErrorKind, [String], String)] = [
            (.input, ["convert", missing, dir.file("a.f32")], missing),
            (.format, ["convert", notAudio, dir.file("b.f32")], notAudio),
            (.output, ["convert", fixture("speech.wav"), existing], existing),
            (.model, ["eval", fixture("speech.wav"), "--model", notAModel], notAModel),
            (.usage, ["train", fixture("speech.wav"), "--model", try Self.squeeze16Model(dir), "--resume",
                      "--segment", "48", "--steps", "1", "--flow-steps", "1", "--hidden", "4", "-q"], "--segment"),
        ] + (FileManager.default.fileExists(atPath: "/dev/full")
                ? [(.io, ["convert", fixture("speech.wav"), "/dev/full", "--format", "f32", "-q"], "/dev/full: cannot write")] : [])
        for (kind, args, named) in cases {
            let r = try CLI.run(args)
            #expect(r.status == (kind == .usage ? 64 : 1), "\(kind): \(r.status) \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("audiodq: error: ") && lines[0].contains(named), "\(kind): \(r.stderr)")
        }
    }

    /// A model of squeeze 16 (length granularity 32), 0 steps, for the data of speech.wav.
    static func squeeze16Model(_ dir: TempDir) throws -> String {
        let data = try readBins(fixture("speech.wav"))
        let model = try DequantModel(flow: .init(squeeze: 16, steps: 1, hidden: 4, kernelSize: 3), noise: nil,
                                     encoding: data.encoding, sampleRate: data.sampleRate, seed: 1)
        let path = dir.file("s16.dqm")
        try model.save(to: path)
        return path
    }

    /// A setting the model cannot run (a --segment that passes validate() for the default
    /// squeeze but is no multiple of the resumed model's 32) is a usage error: exit 64 and the
    /// flag in the hint (failed before: exit 1).
    @Test func hyperparameterTheModelCannotRunIsAUsageError() throws {
        let dir = try TempDir()
        let model = try Self.squeeze16Model(dir)
        let before = try bytes(model)
        let r = try CLI.run(["train", fixture("speech.wav"), "--model", model, "--resume", "--segment", "48",
                             "--steps", "1", "--threads", "1", "-q"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr == "audiodq: error: segment 48: must be a positive multiple of 32, the model's length granularity (--segment)\n",
                "\(r.stderr)")
        #expect(try bytes(model) == before)
    }

    /// The CLI adds the hint the library no longer writes, so the user's line is today's.
    @Test func cliAddsTheHints() throws {
        let dir = try TempDir()
        let out = dir.file("o.f32")
        #expect(try CLI.run(["convert", fixture("speech.wav"), out, "-q"]).status == 0)
        let again = try CLI.run(["convert", fixture("speech.wav"), out])
        #expect(again.stderr == "audiodq: error: \(out): output exists (use --force to replace it)\n", "\(again.stderr)")
        let odd = dir.file("odd.ulaw")
        try Data(repeating: 0x55, count: 3).write(to: URL(fileURLWithPath: odd))
        let partial = try CLI.run(["convert", odd, dir.file("p.f32"), "--raw", "ulaw:8000:2"])
        #expect(partial.status == 1)
        #expect(partial.stderr == "audiodq: error: \(odd): 3 bytes are not whole frames of 2 bytes (1 frame and 1 byte left over); check --raw\n",
                "\(partial.stderr)")
        let resume = try CLI.run(["train", fixture("speech.wav"), "--model", dir.file("none.dqm"), "--resume"])
        #expect(resume.status == 1)
        #expect(resume.stderr.hasSuffix("none.dqm: no model to resume (--resume continues an existing model; leave it out to train a new one)\n"),
                "\(resume.stderr)")
        let folder = try CLI.run(["convert", dir.path, dir.file("x.f32")])
        #expect(folder.status == 1 && folder.stderr == "audiodq: error: \(dir.path): is a directory; to convert a folder, give an output folder\n",
                "\(folder.stderr)")
        try FileManager.default.copyItem(atPath: out, toPath: dir.file("bare.f32"))
        let restore = try CLI.run(["restore", dir.file("bare.f32"), dir.file("back.wav")])
        #expect(restore.status == 1 && restore.stderr.contains("; pass --encoding and --range"), "\(restore.stderr)")
    }

    /// Corpus warnings go to the sink, one per skipped file, in file order, as warnings with the
    /// skipped file's kind and path; the CLI prints them in that order.
    @Test func corpusWarningsReachTheSinkInOrder() throws {
        let dir = try TempDir()
        let notAudio = dir.file("a-notes.wav")
        try Data("text\n".utf8).write(to: URL(fileURLWithPath: notAudio))
        let missing = dir.file("b-missing.wav")
        let log = DiagnosticLog()
        let (corpus, skipped) = try CorpusLoader.load([notAudio, fixture("speech.wav"), missing], diagnostics: log.sink)
        #expect(skipped == 2 && corpus.sequences.count == 1)
        let warnings = log.all
        #expect(warnings.map(\.path) == [notAudio, missing])
        #expect(warnings.map(\.kind) == [.format, .input])
        #expect(warnings.allSatisfy { $0.severity == .warning(action: "skipping") })
        let r = try CLI.run(["eval", notAudio, fixture("speech.wav"), missing, "--model", try Self.squeeze16Model(dir)])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].hasPrefix("audiodq: warning: skipping \(notAudio): ")
                && lines[1] == "audiodq: warning: skipping \(missing): no such file", "\(r.stderr)")
    }

    /// `EvalFrontend` checks the model before reading audio and refuses another input scale (K)
    /// or method with kind `.model`.
    @Test func evalFrontendRefusesAnotherKOrMethod() throws {
        let dir = try TempDir()
        let model = try Self.squeeze16Model(dir)   // speech.wav: K = 256
        var options = EvalOptions(data: [fixture("speech-s16.wav")], modelPath: model)
        let log = DiagnosticLog()
        #expect { try EvalFrontend.run(options, diagnostics: log.sink) } throws: { error in
            // μ-law codes (K = 256) against 16-bit amplitudes: another input scale (issue #12)
            guard case DequantizationError.inputMismatch(model, .container(.ulaw), .container(.pcm16)) = error else { return false }
            return Diagnostic(error).kind == .model && "\(error)".contains("K = 256") && "\(error)".contains("S = 65536")
        }
        options.data = [fixture("speech.wav")]
        options.method = .variational
        #expect { try EvalFrontend.run(options, diagnostics: log.sink) } throws: { error in
            guard case DequantizationError.wrongMethod(model, .variational, .uniform) = error else { return false }
            return Diagnostic(error).kind == .model
        }
        // the model is read first: a missing model is the error, not the unreadable data
        options = EvalOptions(data: [dir.file("gone.wav")], modelPath: dir.file("gone.dqm"))
        #expect { try EvalFrontend.run(options, diagnostics: log.sink) } throws: { "\($0)".contains("gone.dqm") }
        #expect(log.all.isEmpty)
    }

    /// A stop request ends training at the next step with a checkpoint (the CLI's SIGINT flag
    /// is this closure; no signal reaches the library).
    @Test func stopRequestSavesAndReturnsInterrupted() throws {
        let dir = try TempDir()
        var options = TrainOptions(data: [fixture("speech.wav")], modelPath: dir.file("m.dqm"))
        options.flow = .init(squeeze: 8, steps: 1, hidden: 4, kernelSize: 3)
        options.hyperparameters.steps = 50
        options.hyperparameters.segment = 256
        options.hyperparameters.batch = 2
        options.hyperparameters.threads = 1
        let calls = DiagnosticLog()
        final class Asked: Sendable { let count = Atomic<Int>(0) }
        let asked = Asked()
        options.stopRequested = { asked.count.add(1, ordering: .relaxed).newValue > 3 }
        var checkpoints: [Int] = []
        let s = try TrainFrontend.run(options, diagnostics: calls.sink) { event in
            if case .checkpoint(let step, _) = event { checkpoints.append(step) }
        }
        #expect(s.interrupted && s.steps == 3)
        #expect(checkpoints == [3])
        #expect(try DequantModel.load(path: dir.file("m.dqm")).step == 3)
    }

    /// Batch conversion sends one error per failed file to the sink (the CLI prints it with its
    /// hint; the manifest keeps the library's text) and goes on with the rest.
    @Test func batchFailuresReachTheSink() throws {
        let dir = try TempDir()
        let corpus = dir.file("corpus")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture("speech.wav"), toPath: corpus + "/a.wav")
        try FileManager.default.copyItem(atPath: fixture("refused/gsm.wav"), toPath: corpus + "/b.wav")
        try Data(repeating: 0x55, count: 3).write(to: URL(fileURLWithPath: corpus + "/c.raw"))
        var options = BatchOptions(input: corpus, outputDir: dir.file("out"))
        options.settings.raw = RawFormat(encoding: .ulaw, sampleRate: 8000, channels: 2)
        options.jobs = 1
        let log = DiagnosticLog()
        let s = try BatchConverter.run(options, diagnostics: log.sink)
        #expect(s.ok == 1 && s.failed == 2)
        let failed = log.all
        #expect(failed.map(\.path) == [corpus + "/b.wav", corpus + "/c.raw"], "\(failed)")
        #expect(failed.map(\.kind) == [.format, .format] && failed.allSatisfy { $0.severity == .error })
        #expect(s.records.filter { $0.status == .failed }.map(\.error) == failed.map(\.description))
        let r = try CLI.run(["convert", corpus, dir.file("cli"), "--raw", "ulaw:8000:2", "--jobs", "1", "-q"])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines.allSatisfy { $0.hasPrefix("audiodq: error: \(corpus)/") }, "\(r.stderr)")
        #expect(lines.last?.hasSuffix("left over); check --raw") == true, "\(r.stderr)")
    }
}
