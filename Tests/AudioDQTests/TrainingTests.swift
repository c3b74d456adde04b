import Foundation
import Testing
@testable import AudioDQ

@Suite(.serialized) struct TrainingTests {
    let small = ["--flow-steps", "2", "--hidden", "8", "--segment", "256", "--batch", "4", "--threads", "1"]

    func train(_ dir: TempDir, _ data: [String], model: String, steps: Int, extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["train"] + data + ["--model", model, "--steps", "\(steps)", "-q"] + small + extra)
    }

    @Test func trainingLowersTheLossAndIsReproducible() throws {
        let dir = try TempDir()
        let data = [fixture("speech.wav"), fixture("speech-alaw.wav").replacingOccurrences(of: "alaw", with: "ulaw.au")]
        let r = try train(dir, data, model: dir.file("a.dqm"), steps: 60, extra: ["--log", dir.file("a.jsonl"), "--lr", "5e-3"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try String(decoding: bytes(dir.file("a.jsonl")), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 60)
        func loss(_ l: Substring) throws -> Double {
            (try JSONSerialization.jsonObject(with: Data(l.utf8)) as! [String: Any])["lossBitsPerSample"] as! Double
        }
        let first = try lines.prefix(5).map(loss).reduce(0, +) / 5
        let last = try lines.suffix(5).map(loss).reduce(0, +) / 5
        #expect(last < first - 0.5, "loss \(first) -> \(last)")
        // same seed, same model bytes
        #expect(try train(dir, data, model: dir.file("b.dqm"), steps: 60, extra: ["--lr", "5e-3"]).status == 0)
        #expect(try bytes(dir.file("a.dqm")) == bytes(dir.file("b.dqm")))
    }

    /// OpenBLAS is loaded on first use: `convert` never loads it (nor starts its threads);
    /// `train` does. The dynamic loader's own log (LD_DEBUG=files) says which libraries came in.
    @Test func openBLASLoadsOnlyForCommandsThatRunFlows() throws {
        let dir = try TempDir()
        let log = ["LD_DEBUG": "files"]
        let c = try CLI.run(["convert", fixture("speech.wav"), dir.file("o.f32"), "-q"], environment: log)
        #expect(c.status == 0)
        #expect(c.stderr.contains("file=libsndfile"))   // the log is there ...
        #expect(!c.stderr.contains("openblas"))         // ... and OpenBLAS is not in it
        let t = try CLI.run(["train", fixture("speech.wav"), "--model", dir.file("m.dqm"), "--steps", "1", "-q"] + small,
                            environment: log)
        #expect(t.status == 0)
        #expect(t.stderr.contains("file=libopenblas.so.0"))
    }

    @Test func resumeContinuesExactly() throws {
        let dir = try TempDir()
        let data = [fixture("speech.wav")]
        #expect(try train(dir, data, model: dir.file("full.dqm"), steps: 20).status == 0)
        #expect(try train(dir, data, model: dir.file("half.dqm"), steps: 10).status == 0)
        let again = try train(dir, data, model: dir.file("half.dqm"), steps: 20, extra: ["--resume"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try bytes(dir.file("half.dqm")) == bytes(dir.file("full.dqm")))
        // without --resume or --force an existing model is kept
        let refused = try train(dir, data, model: dir.file("half.dqm"), steps: 5)
        #expect(refused.status == 1 && refused.stderr.contains("--force"))
    }

    /// --lr-schedule cosine: the logged rate of step t is lr·½(1 + cos(π(t − 1)/steps)), the
    /// default keeps the constant rate, and the two give different models.
    @Test func cosineScheduleDecaysTheLoggedRate() throws {
        let dir = try TempDir()
        let data = [fixture("speech.wav")]
        func rates(_ name: String, _ extra: [String]) throws -> [Double] {
            let r = try train(dir, data, model: dir.file("\(name).dqm"), steps: 8, extra: ["--log", dir.file("\(name).jsonl"), "--lr", "4e-3"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try String(decoding: bytes(dir.file("\(name).jsonl")), as: UTF8.self).split(separator: "\n").map {
                (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["learningRate"] as! Double
            }
        }
        let cosine = try rates("cos", ["--lr-schedule", "cosine"])
        #expect(cosine.count == 8)
        for (i, r) in cosine.enumerated() {
            #expect(abs(r - 4e-3 * 0.5 * (1 + cos(Double.pi * Double(i) / 8))) < 1e-9, "step \(i + 1): \(r)")
        }
        #expect(try rates("const", []).allSatisfy { abs($0 - 4e-3) < 1e-9 })
        #expect(try bytes(dir.file("cos.dqm")) != bytes(dir.file("const.dqm")))
        let bad = try CLI.run(["train", fixture("speech.wav"), "--model", dir.file("x.dqm"), "--lr-schedule", "linear"])
        #expect(bad.status == 64 && bad.stderr.contains("--lr-schedule"))
    }

    /// --resume never falls back: a missing model is an error naming it (exit 1, nothing
    /// written); an architecture flag that differs from the checkpoint's is a usage error naming
    /// the flag (exit 64, the model untouched); leaving the flags out, or giving the model's
    /// values, resumes.
    @Test func resumeRefusesAMissingModelAndAnotherArchitecture() throws {
        let dir = try TempDir()
        let data = [fixture("speech-u8.wav")]
        let missing = try train(dir, data, model: dir.file("none.dqm"), steps: 2, extra: ["--resume"])
        #expect(missing.status == 1 && missing.stderr.contains("none.dqm") && missing.stderr.contains("no model to resume"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("none.dqm")))
        let model = dir.file("v.dqm")
        let q = ["--method", "variational", "--q-hidden", "8"]
        #expect(try train(dir, data, model: model, steps: 2, extra: q).status == 0)
        let saved = try bytes(model)
        let rest = ["--segment", "256", "--batch", "4", "--threads", "1", "-q", "--method", "variational"]
        func resume(_ flags: [String]) throws -> CLI.Result {
            try CLI.run(["train"] + data + ["--model", model, "--steps", "4", "--resume"] + rest + flags)
        }
        for flags in [["--flow-steps", "3"], ["--hidden", "16"], ["--squeeze", "4"], ["--q-hidden", "16"], ["--q-layers", "2"],
                      ["--q-base", "gaussian"], ["--q-context", "2"], ["--no-q-code-steps"], ["--arch", "reference"]] {
            let r = try resume(flags)
            #expect(r.status == 64 && r.stderr.contains(model) && r.stderr.contains(flags.joined(separator: " ") + " differs"), "\(flags): \(r.stderr)")
            #expect(try bytes(model) == saved, "\(flags)")
        }
        // the model's own values, and no architecture flags at all, resume
        #expect(try resume(["--flow-steps", "2", "--hidden", "8", "--q-hidden", "8", "--arch", "audiodq"]).status == 0)
        let r = try resume([])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try DequantModel.load(path: model).step == 4)
    }

    @Test func evalReportsBitsPerSampleAsJSON() throws {
        let dir = try TempDir()
        #expect(try train(dir, [fixture("speech.wav")], model: dir.file("m.dqm"), steps: 10).status == 0)
        let r = try CLI.run(["eval", fixture("speech-ulaw.au"), fixture("silence.wav"), "--model", dir.file("m.dqm"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect((obj["files"] as! [Any]).count == 2)
        #expect(obj["samples"] as? Int == 33968 + 8000)   // floor(n/16)*16 per file
        let elbo = obj["elboBitsPerSample"] as! Double
        #expect(elbo > 0 && elbo < 8)
        #expect(obj["iwboBitsPerSample"] is NSNull && obj["importanceSamples"] as? Int == 0 && obj["method"] as? String == "uniform")
        let iw = try CLI.run(["eval", fixture("speech-ulaw.au"), "--model", dir.file("m.dqm"), "--json", "--iw", "4"])
        let o2 = try JSONSerialization.jsonObject(with: Data(iw.stdout.utf8)) as! [String: Any]
        let w = o2["iwboBitsPerSample"] as! Double
        #expect(w <= (o2["elboBitsPerSample"] as! Double) + 0.01)
        // the mean of the same 4 draws: the ELBO again (within Monte Carlo error of the one-draw
        // figure), never below IWBO(4) in bits, per file and in total; absent without --iw
        #expect(obj["elboMeanBitsPerSample"] == nil)
        let mean = o2["elboMeanBitsPerSample"] as! Double
        #expect(mean >= w && abs(mean - (o2["elboBitsPerSample"] as! Double)) < 0.01, "\(mean) \(w)")
        for f in o2["files"] as! [[String: Any]] {
            #expect((f["elboMeanBitsPerSample"] as! Double) >= (f["iwboBitsPerSample"] as! Double))
        }
        // one draw: the mean and the importance-weighted bound are the same number
        let one = try CLI.run(["eval", fixture("speech-ulaw.au"), "--model", dir.file("m.dqm"), "--json", "--iw", "1"])
        let o1 = try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as! [String: Any]
        #expect(o1["elboMeanBitsPerSample"] as! Double == o1["iwboBitsPerSample"] as! Double)
    }

    @Test func sampleWritesTheModelsEncoding() throws {
        let dir = try TempDir()
        #expect(try train(dir, [fixture("speech-alaw.wav")], model: dir.file("m.dqm"), steps: 5).status == 0)
        let r = try CLI.run(["sample", "--model", dir.file("m.dqm"), "--seconds", "0.5", "--seed", "3", dir.file("s.wav")])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try readBins(dir.file("s.wav"))
        #expect(s.encoding == .alaw && s.sampleRate == 8000 && s.frames == 4000)
        #expect(Set(s.bins).count > 10)
    }

    @Test func badModelsAndDataAreClearErrors() throws {
        let dir = try TempDir()
        #expect(try train(dir, [fixture("speech.wav")], model: dir.file("mu.dqm"), steps: 3).status == 0)
        // a model for K = 256 on 16-bit data
        let k = try CLI.run(["eval", fixture("speech-s16.wav"), "--model", dir.file("mu.dqm")])
        #expect(k.status == 1 && k.stderr.contains("K = 256") && k.stderr.contains("65536"), "\(k.stderr)")
        // a damaged model
        var b = try bytes(dir.file("mu.dqm"))
        b[b.count - 10] ^= 0xFF
        try b.write(to: URL(fileURLWithPath: dir.file("bad.dqm")))
        let c = try CLI.run(["eval", fixture("speech.wav"), "--model", dir.file("bad.dqm")])
        #expect(c.status == 1 && c.stderr.contains("bad.dqm"), "\(c.stderr)")
        // not a model at all
        let n = try CLI.run(["eval", fixture("speech.wav"), "--model", fixture("speech.wav")])
        #expect(n.status == 1 && n.stderr.split(separator: "\n").count == 1)
        // a uniform model where a variational one is required
        let m = try CLI.run(["eval", fixture("speech.wav"), "--model", dir.file("mu.dqm"), "--method", "variational"])
        #expect(m.status == 1 && m.stderr.contains("uniform"), "\(m.stderr)")
        // unreadable files are skipped with a warning; no usable data is an error
        let w = try CLI.run(["train", fixture("speech.wav"), fixture("refused/float32.wav"), "--model", dir.file("w.dqm"), "--steps", "2"] + small)
        #expect(w.status == 0 && w.stderr.contains("warning") && w.stderr.contains("float32.wav"), "\(w.stderr)")
        let none = try CLI.run(["train", fixture("sweep-ulaw.wav"), "--model", dir.file("x.dqm"), "--steps", "2"] + small.dropLast(6) + ["--segment", "4096"])
        #expect(none.status == 1 && none.stderr.contains("segment"), "\(none.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.dqm")))
    }

    /// One model serves one input scale at one rate: a corpus mixing μ-law codes, A-law codes and
    /// linear PCM (the code domain against the linear one), or sample rates, is refused, naming the
    /// first file that differs and how; signed and unsigned 8-bit PCM (the same levels) may be
    /// mixed, and so may 8- and 16-bit PCM (the linear domain is one scale whatever K).
    @Test func corpusMixingEncodingsOrRatesIsRefused() throws {
        let dir = try TempDir()
        for (other, what) in [("speech-alaw.wav", "A-law"), ("speech-u8.wav", "unsigned 8-bit")] {
            let r = try train(dir, [fixture("speech.wav"), fixture(other)], model: dir.file("m.dqm"), steps: 1)
            #expect(r.status == 1 && r.stderr.contains(other) && r.stderr.contains(what) && r.stderr.contains("mu-law"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("m.dqm")))
        }
        // the same μ-law speech declared at 16 kHz (sample rate and byte rate of the fmt chunk)
        var b = try bytes(fixture("speech.wav"))
        for offset in [24, 28] { b.replaceSubrange(offset..<offset + 4, with: [0x80, 0x3E, 0, 0]) }
        try b.write(to: URL(fileURLWithPath: dir.file("fast.wav")))
        #expect(try readBins(dir.file("fast.wav")).sampleRate == 16000)
        let rate = try train(dir, [fixture("speech.wav"), dir.file("fast.wav")], model: dir.file("m.dqm"), steps: 1)
        #expect(rate.status == 1 && rate.stderr.contains("fast.wav") && rate.stderr.contains("16000") && rate.stderr.contains("8000"), "\(rate.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("m.dqm")))
        let mixed8 = try train(dir, [fixture("speech-u8.wav"), fixture("speech-s8.au")], model: dir.file("m8.dqm"), steps: 1)
        #expect(mixed8.status == 0, "\(mixed8.stderr)")
        // signed and unsigned 8-bit PCM share their 256 cells: no "mixing" warning
        #expect(!mixed8.stderr.contains("mixing"), "\(mixed8.stderr)")
        // 8- and 16-bit PCM: one linear scale, each file in its own cells (a warning names both)
        let depths = try train(dir, [fixture("speech-u8.wav"), fixture("speech-s16.wav")], model: dir.file("m816.dqm"), steps: 1)
        #expect(depths.status == 0 && depths.stderr.contains("mixing"), "\(depths.stderr)")
        #expect(try DequantModel.load(path: dir.file("m816.dqm")).trainedOn == ["container.pcm_u8": 1, "container.pcm_16": 1])
    }

    /// A diverging run stops with a clear message and keeps the last good checkpoint.
    @Test func nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
        let dir = try TempDir()
        let model = dir.file("nan.dqm")
        #expect(try train(dir, [fixture("speech.wav")], model: model, steps: 5).status == 0)
        let good = try bytes(model)
        let r = try train(dir, [fixture("speech.wav")], model: model, steps: 200, extra: ["--resume", "--lr", "1e30", "--checkpoint-every", "1"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("non-finite") && r.stderr.contains("last good checkpoint kept at \(model)"), "\(r.stderr)")
        #expect(try bytes(model) == good)
        let e = try CLI.run(["eval", fixture("speech.wav"), "--model", model, "--json"])
        #expect(e.status == 0, "\(e.stderr)")
    }
}

@Suite struct InterruptTests {
    /// Progress on a pipe (TrainProgressPrinter): the corpus line, a step line for the last
    /// step (the 10-s lines do not come in a short run), a line per checkpoint in order, the
    /// final line; -q keeps only the final line.
    @Test func progressLinesOnAPipe() throws {
        let dir = try TempDir()
        let model = dir.file("p.dqm")
        let r = try CLI.run(["train", fixture("speech.wav"), "--model", model, "--steps", "3", "--checkpoint-every", "2"] + TrainingTests().small)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(r.stderr)")
        guard lines.count == 5 else { return }
        #expect(lines[0].hasPrefix("training on 1 of 1 sequences ("))
        #expect(lines[1] == "checkpoint: step 2 -> \(model)")
        #expect(lines[2].hasPrefix("step 3/3  loss ") && lines[2].contains(" bits/sample  ") && lines[2].contains(" ETA "))
        #expect(lines[3] == "checkpoint: step 3 -> \(model)")
        #expect(lines[4].hasPrefix("trained 3 steps in ") && lines[4].hasSuffix("; model \(model)"))
        let quiet = try CLI.run(["train", fixture("speech.wav"), "--model", model, "--steps", "1", "--force", "-q"] + TrainingTests().small)
        #expect(quiet.status == 0 && quiet.stderr.split(separator: "\n").count == 1, "\(quiet.stderr)")
    }

    /// Ctrl-C (SIGINT) saves a checkpoint and exits 130; --resume continues from it.
    @Test func sigintSavesACheckpointThatResumes() throws {
        let dir = try TempDir()
        let model = dir.file("int.dqm")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["train", fixture("speech.wav"), "--model", model, "--steps", "100000", "-q", "--checkpoint-every", "0"]
            + TrainingTests().small
        let err = Pipe()
        p.standardError = err
        try p.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(text)")
        #expect(text.contains("interrupted at step") && text.contains("--resume"), "\(text)")
        let m = try DequantModel.load(path: model)
        #expect(m.step > 0 && m.step < 100000)
        let r = try CLI.run(["train", fixture("speech.wav"), "--model", model, "--steps", "\(m.step + 3)", "--resume", "-q"] + TrainingTests().small)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try DequantModel.load(path: model).step == m.step + 3)
    }
}
