import Foundation
import Testing
@testable import AudioDQ

/// `train --average`: the model is saved with the exponential average of the weights, training's
/// own trajectory is untouched, a resume continues both exactly, and eval scores the average.
@Suite(.serialized) struct AveragingTests {
    let small = ["--flow-steps", "2", "--hidden", "8", "--segment", "256", "--batch", "4", "--threads", "1", "-q", "--lr", "5e-3"]
    let data = [fixture("speech.wav")]

    func train(_ model: String, steps: Int, _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["train"] + data + ["--model", model, "--steps", "\(steps)", "--force"] + small + extra)
    }

    /// The weights after each of steps 1...n of a plain run (one run per length: same seed, same
    /// crops and noise, so run k stops where the longer ones pass step k).
    func trajectory(_ dir: TempDir, steps n: Int) throws -> [[[Float]]] {
        try (1...n).map { k in
            let m = dir.file("plain-\(k).dqm")
            #expect(try train(m, steps: k, ["--average", "0"]).status == 0)
            return try DequantModel.load(path: m).parameters.map(\.value)
        }
    }

    @Test func theSavedWeightsAreTheAverageOfTheRawTrajectory() throws {
        let dir = try TempDir()
        let n = 6
        let raw = try trajectory(dir, steps: n)
        let m = dir.file("avg.dqm")
        let r = try train(m, steps: n, ["--average", "0.3"])
        #expect(r.status == 0, "\(r.stderr)")
        let model = try DequantModel.load(path: m)
        let saved = try #require(model.savedAverage)
        #expect(saved.count == n && saved.decay == 0.3)
        // training's own weights are those of the plain run, bit for bit
        #expect(saved.raw == raw[n - 1])
        // the model's weights: a_1 = w_1, a_t = d_t a_(t-1) + (1 - d_t) w_t, d_t = min(0.3, (1+t)/(10+t))
        var moved = 0
        for (i, p) in model.parameters.enumerated() {
            var a = raw[0][i].map(Double.init)
            for t in 2...n {
                let d = min(0.3, Double(1 + t) / Double(10 + t))
                for j in a.indices { a[j] = d * a[j] + (1 - d) * Double(raw[t - 1][i][j]) }
            }
            for j in a.indices {
                #expect(abs(Double(p.value[j]) - a[j]) <= 1e-5 * max(1, abs(a[j])), "\(p.name)[\(j)]")
                if p.value[j] != raw[n - 1][i][j] { moved += 1 }
            }
        }
        #expect(moved > 100)   // the average is not the last weights
        // eval scores the averaged weights: another figure than the plain model's
        func elbo(_ path: String) throws -> Double {
            let e = try CLI.run(["eval", fixture("speech.wav"), "--model", path, "--json"])
            #expect(e.status == 0, "\(e.stderr)")
            return (try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as! [String: Any])["elboBitsPerSample"] as! Double
        }
        let averaged = try elbo(m), plain = try elbo(dir.file("plain-\(n).dqm"))
        #expect(averaged.isFinite && averaged != plain, "\(averaged) vs \(plain)")
    }

    @Test(arguments: [[], ["--method", "variational", "--q-hidden", "8"]])
    func resumeContinuesTheAverageExactly(method: [String]) throws {
        let dir = try TempDir()
        let full = dir.file("full.dqm"), half = dir.file("half.dqm")
        #expect(try train(full, steps: 14, ["--average", "0.95"] + method).status == 0)
        #expect(try train(half, steps: 7, ["--average", "0.95"] + method).status == 0)
        // q's weights are averaged too
        let model = try DequantModel.load(path: half)
        #expect(try #require(model.savedAverage).raw.count == model.parameters.count)
        #expect(method.isEmpty || model.noise!.parameters.contains { p in
            zip(model.parameters, model.savedAverage!.raw).contains { $0.0 === p && $0.0.value != $0.1 }
        })
        // no --average on resume: the model's own decay
        let again = try CLI.run(["train"] + data + ["--model", half, "--steps", "14", "--resume"] + small + method)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try bytes(half) == bytes(full))
        // another decay is refused and the model kept
        let saved = try bytes(half)
        let other = try CLI.run(["train"] + data + ["--model", half, "--steps", "16", "--resume", "--average", "0.5"] + small + method)
        #expect(other.status == 64 && other.stderr.contains(half) && other.stderr.contains("--average 0.5 differs from the model's --average 0.95"),
                "\(other.stderr)")
        #expect(try bytes(half) == saved)
    }

    /// The default preset averages with decay 0.999; `--arch reference` and `--average 0` keep the
    /// last weights, and a model without an average resumes without one.
    @Test func theDefaultPresetAveragesAndTheReferenceDoesNot() throws {
        let dir = try TempDir()
        func decay(_ extra: [String], steps: Int = 3, name: String) throws -> Float? {
            let m = dir.file(name)
            let r = try train(m, steps: steps, extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try DequantModel.load(path: m).savedAverage?.decay
        }
        #expect(try decay([], name: "default.dqm") == 0.999)
        #expect(try decay(["--arch", "reference"], name: "reference.dqm") == nil)
        #expect(try decay(["--average", "0"], name: "none.dqm") == nil)
        #expect(try decay(["--average", "0"], steps: 6, name: "none6.dqm") == nil)
        let again = try CLI.run(["train"] + data + ["--model", dir.file("none.dqm"), "--steps", "6", "--resume"] + small)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try bytes(dir.file("none.dqm")) == bytes(dir.file("none6.dqm")))
    }

    @Test func aDecayOutsideTheUnitIntervalIsAUsageError() throws {
        let dir = try TempDir()
        for d in ["1", "-0.5", "nan", "x"] {
            let r = try train(dir.file("m.dqm"), steps: 1, ["--average", d])
            #expect(r.status == 64 && r.stderr.contains("--average"), "\(d): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.file("m.dqm")))
        }
    }
}
