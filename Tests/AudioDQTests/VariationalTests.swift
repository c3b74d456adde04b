import Foundation
import Testing
@testable import AudioDQ

@Suite(.serialized) struct VariationalTests {
    static let small = ["--flow-steps", "2", "--hidden", "8", "--q-hidden", "8", "--segment", "256", "--batch", "4", "--threads", "1"]

    func trainedModel(_ dir: TempDir, base: String = "logistic", data: String = "speech-u8.wav", extra: [String] = []) throws -> String {
        let m = dir.file("v-\(base)\(extra.joined()).dqm")
        let r = try CLI.run(["train", fixture(data), "--model", m, "--method", "variational", "--q-base", base, "--steps", "8", "-q"] + Self.small + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return m
    }

    @Test(arguments: ["logistic", "gaussian"])
    func convertKeepsTheContractAndDoesNotDependOnThreads(_ base: String) throws {
        let dir = try TempDir()
        let model = try trainedModel(dir, base: base)
        let source = try readBins(fixture("speech-u8.wav"))
        for range in ["unit", "symmetric"] {
            for ext in ["f32", "f64"] {
                let out = dir.file("y-\(range).\(ext)")
                let r = try CLI.run(["convert", fixture("speech-u8.wav"), out, "--method", "variational", "--model", model,
                                     "--range", range, "--threads", "2", "--log-q", out + ".lq", "-q"])
                #expect(r.status == 0, "\(r.stderr)")
                let reader = try ValueReader(path: out, channels: 1)
                var v = [Double](repeating: 0, count: reader.count)
                _ = try v.withUnsafeMutableBufferPointer { try reader.read(into: $0) }
                let rr = DequantRange(rawValue: range)!
                #expect(zip(v, source.bins).allSatisfy { rr.bin(of: $0, binCount: 256) == Int($1) })
                let sc = try Sidecar.load(path: out + ".json")
                #expect(sc.dequantization.method == "variational" && sc.dequantization.model == model)
                #expect(sc.dequantization.uVariant == Sidecar.uVariantLearned)
                let lq = try bytes(out + ".lq")
                #expect(lq.count == source.bins.count * 4)
                let total = lq.withUnsafeBytes { $0.bindMemory(to: Float.self).reduce(0.0) { $0 + Double($1) } }
                #expect(abs(total - sc.dequantization.logQTotalNats!) < 1e-3 * max(1, abs(total)))
            }
        }
        let one = dir.file("t1.f32")
        #expect(try CLI.run(["convert", fixture("speech-u8.wav"), one, "--method", "variational", "--model", model, "--threads", "1", "-q"]).status == 0)
        let two = dir.file("t2.f32")
        #expect(try CLI.run(["convert", fixture("speech-u8.wav"), two, "--method", "variational", "--model", model, "--threads", "2", "-q"]).status == 0)
        #expect(try bytes(one) == bytes(two))
    }

    /// The window grid gives (to float rounding) the u of one window over the whole file, also
    /// next to the window edges: the context covers q's receptive field.
    /// Also for a q with wide context (`--q-context 3`: 588 samples each side, so 768 frames of
    /// context per window).
    @Test(arguments: [[], ["--q-layers", "6", "--q-context", "3"]])
    func windowsMatchAWholeFileWindow(_ extra: [String]) throws {
        let dir = try TempDir()
        let model = try DequantModel.load(path: try trainedModel(dir, extra: extra))
        let bins = try readBins(fixture("speech-u8.wav")).bins
        let n = bins.count
        let context = VariationalDequantizer.context(for: model.noise!.configuration)
        #expect(context == (extra.isEmpty ? 256 : 768))
        let windows = VariationalDequantizer.windows(frames: n, context: context)
        #expect(windows.count == 3 && windows[1].lo == windows[1].coreLo - context)
        let vq = try VariationalDequantizer(model: model, range: .unit, key: NoiseKey(seed: 1), channels: 1, threads: 1)
        var uGrid = [Float](repeating: 0, count: n), lqGrid = uGrid, uWhole = uGrid, lqWhole = uGrid
        try bins.withUnsafeBufferPointer { b in
            for w in windows {
                try uGrid.withUnsafeMutableBufferPointer { u in
                    try lqGrid.withUnsafeMutableBufferPointer { l in
                        try vq.run(windows: [w], bins: b, base: 0, u: u.baseAddress!, logq: l.baseAddress!, outBase: 0)
                    }
                }
            }
            let whole = VariationalDequantizer.Window(lo: 0, hi: n, coreLo: 0, coreHi: n)
            try uWhole.withUnsafeMutableBufferPointer { u in
                try lqWhole.withUnsafeMutableBufferPointer { l in
                    try vq.run(windows: [whole], bins: b, base: 0, u: u.baseAddress!, logq: l.baseAddress!, outBase: 0)
                }
            }
        }
        let worst = zip(uGrid, uWhole).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "largest u difference \(worst)")
    }

    @Test func reportJudgesLearnedNoiseByItsChecks() throws {
        let dir = try TempDir()
        let model = try trainedModel(dir)
        let r = try CLI.run(["report", fixture("speech-u8.wav"), "--method", "variational", "--model", model, "--json", dir.file("r.json"), "--check"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let obj = try JSONSerialization.jsonObject(with: bytes(dir.file("r.json"))) as! [String: Any]
        let checks = ((obj["channels"] as! [[String: Any]])[0]["checks"] as! [[String: Any]])
        let applying = Set(checks.filter { $0["applies"] as! Bool }.map { $0["name"] as! String })
        #expect(applying == ["containment", "edge-mass", "tonal-spur", "block-spur"])
    }

    /// `report`: a --method given wins over the sidecar's (which only fills what is not given),
    /// and `--method variational` dequantizes here in the --dtype asked for: its report is the
    /// report of `convert --method variational` into that type.
    @Test func reportMethodFlagWinsOverTheSidecarAndDtypeApplies() throws {
        let dir = try TempDir()
        let model = try trainedModel(dir)
        let y = dir.file("y.f64")
        #expect(try CLI.run(["convert", fixture("speech-u8.wav"), y, "--method", "variational", "--model", model, "-q"]).status == 0)
        func report(_ name: String, _ args: [String]) throws -> [String: Any] {
            let r = try CLI.run(["report", fixture("speech-u8.wav"), "--json", dir.file(name), "-q"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            return try JSONSerialization.jsonObject(with: bytes(dir.file(name))) as! [String: Any]
        }
        func judged(_ obj: [String: Any]) -> (String?, String?) {
            let p = obj["parameters"] as? [String: Any]
            return ((p?["config"] as? [String: Any])?["noiseKind"] as? String, (p?["extra"] as? [String: Any])?["method"] as? String)
        }
        #expect(judged(try report("side.json", ["--dequantized", y])) == ("learned", "variational"))
        #expect(judged(try report("uniform.json", ["--dequantized", y, "--method", "uniform"])) == ("uniform", "uniform"))
        let there = try report("there.json", ["--dequantized", y])
        let here = try report("here.json", ["--method", "variational", "--model", model, "--dtype", "float64"])
        #expect(judged(here) == ("learned", "variational"))
        #expect(NSArray(array: here["channels"] as! [Any]).isEqual(to: there["channels"] as! [Any]))
        // --dtype cannot apply to values that exist
        let refused = try CLI.run(["report", fixture("speech-u8.wav"), "--dequantized", y, "--dtype", "float32"])
        #expect(refused.status == 64 && refused.stderr.contains("--dtype"), "\(refused.stderr)")
    }

    /// `report --method variational --dtype T` judges exactly the values `convert --method
    /// variational` writes as T (resolved once, from the source opened once): float32 and float64
    /// give their own reports.
    @Test func reportDequantizesVariationallyInTheDtypeAskedFor() throws {
        let dir = try TempDir()
        let model = try trainedModel(dir)
        func channels(_ name: String, _ args: [String]) throws -> [Any] {
            let r = try CLI.run(["report", fixture("speech-u8.wav"), "--json", dir.file(name), "-q"] + args)
            #expect(r.status == 0, "\(r.stderr)")
            return (try JSONSerialization.jsonObject(with: bytes(dir.file(name))) as! [String: Any])["channels"] as! [Any]
        }
        var here: [String: [Any]] = [:]
        for (dtype, ext) in [("float32", "f32"), ("float64", "f64")] {
            let y = dir.file("y.\(ext)")
            #expect(try CLI.run(["convert", fixture("speech-u8.wav"), y, "--method", "variational", "--model", model, "-q"]).status == 0)
            let there = try channels("there-\(ext).json", ["--dequantized", y])
            here[dtype] = try channels("here-\(ext).json", ["--method", "variational", "--model", model, "--dtype", dtype])
            #expect(NSArray(array: here[dtype]!).isEqual(to: there), "\(dtype)")
        }
        #expect(!NSArray(array: here["float32"]!).isEqual(to: here["float64"]!))
    }

    /// The presets: by default q has a logistic base and sees the code steps (scale K/2 from the
    /// data); `--arch reference` is the reference's Gaussian q on codes only; flags override both.
    @Test func architecturePresetsConfigureQ() throws {
        let dir = try TempDir()
        func q(_ extra: [String]) throws -> NoiseFlow.Configuration {
            let m = dir.file("p\(extra.joined()).dqm")
            let r = try CLI.run(["train", fixture("speech-u8.wav"), "--model", m, "--method", "variational", "--steps", "1", "-q"]
                                + ["--flow-steps", "2", "--hidden", "8", "--segment", "256", "--batch", "2", "--threads", "1"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            return try DequantModel.load(path: m).noise!.configuration
        }
        let def = try q([])
        #expect(def.base == .standardLogistic && def.codeSteps == 128 && def.layers == 4 && def.hidden == 32)
        let ref = try q(["--arch", "reference"])
        #expect(ref.base == .standardNormal && ref.codeSteps == 0 && ref.layers == 4 && ref.hidden == 32)
        let mixed = try q(["--arch", "reference", "--q-base", "logistic", "--q-code-steps", "--q-hidden", "8"])
        #expect(mixed.base == .standardLogistic && mixed.codeSteps == 128 && mixed.hidden == 8)
        #expect(try q(["--no-q-code-steps"]).codeSteps == 0)
    }

    @Test func wrongModelsAreClearErrors() throws {
        let dir = try TempDir()
        let uniform = dir.file("u.dqm")
        #expect(try CLI.run(["train", fixture("speech-u8.wav"), "--model", uniform, "--steps", "2", "-q"] + Self.small).status == 0)
        let a = try CLI.run(["convert", fixture("speech-u8.wav"), dir.file("o.f32"), "--method", "variational", "--model", uniform])
        #expect(a.status == 1 && a.stderr.contains("uniform") && !FileManager.default.fileExists(atPath: dir.file("o.f32")), "\(a.stderr)")
        let v = try trainedModel(dir)
        let b = try CLI.run(["convert", fixture("speech-s16.wav"), dir.file("o.f32"), "--method", "variational", "--model", v])
        #expect(b.status == 1 && b.stderr.contains("K = 256"), "\(b.stderr)")
        #expect(try CLI.run(["convert", fixture("speech-u8.wav"), dir.file("o.f32"), "--method", "variational"]).status == 64)
        let r = try CLI.run(["train", fixture("speech-u8.wav"), "--model", uniform, "--method", "variational", "--resume", "--steps", "4"] + Self.small)
        #expect(r.status == 1 && r.stderr.contains("uniform"), "\(r.stderr)")
        // a streaming chunk shorter than q's receptive field (56 samples for this q)
        let c = try CLI.run(["convert", fixture("speech-u8.wav"), dir.file("o.f32"), "--method", "variational", "--model", v,
                             "--chunk-frames", "40"])
        #expect(c.status == 1 && c.stderr.contains("receptive field") && !FileManager.default.fileExists(atPath: dir.file("o.f32")), "\(c.stderr)")
    }
}
