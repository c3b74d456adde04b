import Foundation

/// One recorded run of the golden-output test: `audiodq` invocations made from the work folder
/// (relative paths only, so every path the tool records is the same on any machine), whose
/// outputs are every file the run leaves in its own folder `out/<folder>`.
struct GoldenRun: Sendable {
    /// How an output is compared when its bytes depend on the CPU's floating-point kernels.
    enum Numeric: Sendable {
        /// `report --json`: the document with a relative tolerance (FFTW and, for learned
        /// noise, OpenBLAS rounding); the tool version in `parameters.extra.tool` is left out.
        case report
        /// Variational `.f32`/`.f64` values: the decoded codes exactly, the within-bin position
        /// w per 64-frame block with a tolerance (q runs through OpenBLAS sgemm).
        case values
        /// `--log-q` float32 values per 64-frame block, with a tolerance.
        case logQ(channels: Int)
        /// A variational sidecar: its bytes without the version and `logQTotalNats`, and that
        /// total with a tolerance.
        case variationalSidecar
    }

    var id: String
    /// 0: reads fixtures and copies only; 1: also reads outputs of stage-0 runs.
    var stage: Int
    /// Each an `audiodq` argument list, run in order (so shards can share one output folder).
    var commands: [[String]]
    /// Outputs (names relative to the run's folder) compared numerically; all others by SHA-256.
    var numeric: [String: Numeric] = [:]

    /// The run's output folder, relative to the work folder.
    var folder: String { GoldenRun.folder(of: id) }
    static func folder(of id: String) -> String { "out/" + id.replacingOccurrences(of: "/", with: "_") }

    static let ranges = ["unit", "symmetric"]
    static let formats = ["f32", "f64", "npy", "wav"]
    /// The seed of the fixture × range × format runs.
    static let seed = "11"
    /// Headerless fixtures need their format spelled out.
    static let rawFormats = ["speech-s16be.raw": "s16:8000:1:be", "speech-ulaw.raw": "ulaw:8000:1"]
    /// The batch corpus: work-folder path → fixture. Two names differ only by extension (both
    /// keep it in their output names), a 24-bit file (written as .f64), a file without an
    /// extension (opened by content), a transcript and a headerless file (skipped), a GSM file
    /// (failed), a hidden file (not listed).
    static let corpus = [
        "corpus/a.wav": "speech.wav", "corpus/a.au": "speech-alaw.au",
        "corpus/sub/stereo.wav": "stereo.wav", "corpus/sub/s24.wav": "sweep-s24.wav",
        "corpus/sub/deep/s8.flac": "speech-s8.flac", "corpus/sub/deep/u8": "sweep-u8.wav",
        "corpus/take.raw": "speech-ulaw.raw", "corpus/sub/gsm.wav": "refused/gsm.wav",
        "corpus/.hidden.wav": "speech-u8.wav",
    ]
    static let corpusText = ["corpus/notes.txt": "not audio\n",
                             "corpus.txt": "# a manifest\ncorpus/take.raw\ncorpus/sub/stereo.wav\ncorpus/a.wav\n"]
    /// The variational model, copied into the work folder from Golden/.
    static let model = "model.dqm"

    /// The fixed set of runs over `fixtures` (file names in AudioFixtures/, refused/ aside).
    static func all(fixtures: [String]) -> [GoldenRun] {
        var runs: [GoldenRun] = []
        func convert(_ id: String, _ args: [String], stage: Int = 0, numeric: [String: Numeric] = [:]) {
            runs.append(GoldenRun(id: id, stage: stage, commands: [["convert"] + args], numeric: numeric))
        }
        func out(_ id: String, _ name: String) -> String { folder(of: id) + "/" + name }

        // every fixture × range × format (a refusal, e.g. 24-bit into .f32, records its exit code)
        for f in fixtures {
            let raw = rawFormats[f].map { ["--raw", $0] } ?? []
            for r in ranges {
                for fmt in formats {
                    let id = "convert/\(f)/\(r)/\(fmt)"
                    convert(id, ["AudioFixtures/\(f)", out(id, "out.\(fmt)"), "--range", r, "--seed", seed] + raw)
                }
            }
        }
        // defaults and the other options of a single conversion
        convert("convert-default/speech.wav/f32", ["AudioFixtures/speech.wav", out("convert-default/speech.wav/f32", "out.f32")])
        convert("convert-default/stereo.wav/wav", ["AudioFixtures/stereo.wav", out("convert-default/stereo.wav/wav", "out.wav")])
        convert("convert-default/sweep-s24.wav/npy", ["AudioFixtures/sweep-s24.wav", out("convert-default/sweep-s24.wav/npy", "out.npy")])
        convert("convert-option/dtype-npy", ["AudioFixtures/speech-s16.wav", out("convert-option/dtype-npy", "out.npy"), "--dtype", "float64", "--seed", seed])
        convert("convert-option/dtype-wav-unit", ["AudioFixtures/stereo.wav", out("convert-option/dtype-wav-unit", "out.wav"), "--dtype", "float64", "--range", "unit"])
        convert("convert-option/key", ["AudioFixtures/speech.wav", out("convert-option/key", "out.f32"), "--key", "golden", "--seed", seed])
        convert("convert-option/key-empty", ["AudioFixtures/speech.wav", out("convert-option/key-empty", "out.f32"), "--key", ""])
        convert("convert-option/hash-output", ["AudioFixtures/stereo.wav", out("convert-option/hash-output", "out.f64"), "--hash-output", "--seed", seed])
        convert("convert-option/sidecar-path", ["AudioFixtures/speech-alaw.wav", out("convert-option/sidecar-path", "out.f32"), "--sidecar", out("convert-option/sidecar-path", "side.json")])
        convert("convert-option/format", ["AudioFixtures/speech-s8.au", out("convert-option/format", "values"), "--format", "npy", "--seed", seed])
        convert("convert-option/chunk-threads", ["AudioFixtures/sweep-s16.wav", out("convert-option/chunk-threads", "out.f32"), "--chunk-frames", "1000", "--threads", "1", "--seed", seed])
        convert("convert-option/raw-dtype", ["AudioFixtures/speech-s16be.raw", out("convert-option/raw-dtype", "out.wav"), "--raw", "s16:8000:1:be", "--dtype", "float64", "--seed", seed])

        // variational: a tiny committed model; speech-u8.wav spans three of q's 16,384-frame cores
        let v1 = "variational/speech-u8.wav/unit/f32", v2 = "variational/speech-u8.wav/symmetric/f64"
        convert(v1, ["AudioFixtures/speech-u8.wav", out(v1, "out.f32"), "--method", "variational", "--model", model,
                     "--log-q", out(v1, "logq.f32")],
                numeric: ["out.f32": .values, "out.f32.json": .variationalSidecar, "logq.f32": .logQ(channels: 1)])
        convert(v2, ["AudioFixtures/speech-u8.wav", out(v2, "out.f64"), "--method", "variational", "--model", model,
                     "--range", "symmetric", "--seed", "7"],
                numeric: ["out.f64": .values, "out.f64.json": .variationalSidecar])

        // batch: two shards into one folder, the whole corpus in another format, a manifest with --raw
        let shards = "batch/shards-of-2"
        runs.append(GoldenRun(id: shards, stage: 0, commands: (0..<2).map {
            ["convert", "corpus", folder(of: shards), "--shard", "\($0)/2", "--seed", "3", "--jobs", "2"]
        }))
        convert("batch/all-npy-symmetric", ["corpus", folder(of: "batch/all-npy-symmetric"), "--format", "npy", "--range", "symmetric", "--seed", "5", "--jobs", "2"])
        convert("batch/manifest-raw-wav", ["corpus.txt", folder(of: "batch/manifest-raw-wav"), "--raw", "ulaw:8000:1", "--format", "wav", "--jobs", "1"])

        // restore: outputs of the runs above into several containers
        func restore(_ id: String, from source: String, _ name: String, _ extra: [String] = []) {
            runs.append(GoldenRun(id: id, stage: 1, commands: [["restore", source, out(id, name)] + extra]))
        }
        restore("restore/speech.wav-unit-f32", from: out("convert/speech.wav/unit/f32", "out.f32"), "back.wav")
        restore("restore/stereo.wav-symmetric-npy", from: out("convert/stereo.wav/symmetric/npy", "out.npy"), "back.aiff")
        restore("restore/sweep-s24.wav-unit-f64", from: out("convert/sweep-s24.wav/unit/f64", "out.f64"), "back.wav")
        restore("restore/speech-s8.aiff-symmetric-wav", from: out("convert/speech-s8.aiff/symmetric/wav", "out.wav"), "back.au")
        restore("restore/sweep-u8.wav-unit-npy", from: out("convert/sweep-u8.wav/unit/npy", "out.npy"), "back.au")
        restore("restore/speech-alaw.au-unit-f32", from: out("convert/speech-alaw.au/unit/f32", "out.f32"), "back.caf")
        restore("restore/sweep-s16.flac-symmetric-f64", from: out("convert/sweep-s16.flac/symmetric/f64", "out.f64"), "back.w64")
        restore("restore/speech-s16.au-unit-wav", from: out("convert/speech-s16.au/unit/wav", "out.wav"), "back.sph")
        restore("restore/batch-a.au", from: out("batch/shards-of-2", "a.au.f32"), "back.au")
        restore("restore/variational", from: out(v1, "out.f32"), "back.wav")
        // the sidecar named by --sidecar, and none at all (the format from the options)
        let sidecarRun = "convert-option/sidecar-path"
        restore("restore/sidecar-path", from: out(sidecarRun, "out.f32"), "back.au", ["--sidecar", out(sidecarRun, "side.json")])
        restore("restore/no-sidecar", from: out(sidecarRun, "out.f32"), "back.wav",
                ["--encoding", "alaw", "--range", "unit", "--rate", "8000", "--channels", "1"])

        // report --json: defaults on a short file (most checks skipped), dequantizing here, a given
        // dequantized file (range from its sidecar), 24-bit with a block length, headerless input,
        // learned noise from a model and from a variational output's sidecar
        func report(_ id: String, _ args: [String]) {
            runs.append(GoldenRun(id: id, stage: 1, commands: [["report"] + args + ["--json", out(id, "r.json"), "--check", "-q"]],
                                  numeric: ["r.json": .report]))
        }
        report("report/sweep-u8.wav-defaults", ["AudioFixtures/sweep-u8.wav"])
        report("report/speech.wav-seed", ["AudioFixtures/speech.wav", "--seed", "3", "--nperseg", "64"])
        report("report/stereo.wav-dequantized", ["AudioFixtures/stereo.wav", "--dequantized", out("convert/stereo.wav/symmetric/npy", "out.npy"), "--nperseg", "64"])
        report("report/sweep-s24.wav-block", ["AudioFixtures/sweep-s24.wav", "--range", "symmetric", "--block", "512", "--nperseg", "64"])
        report("report/speech-s16be.raw-dtype", ["AudioFixtures/speech-s16be.raw", "--raw", "s16:8000:1:be", "--dtype", "float64", "--nperseg", "128", "--alpha", "0.05"])
        report("report/variational-model", ["AudioFixtures/speech-u8.wav", "--method", "variational", "--model", model, "--nperseg", "64"])
        report("report/variational-dequantized", ["AudioFixtures/speech-u8.wav", "--dequantized", out(v1, "out.f32"), "--nperseg", "64"])
        return runs
    }
}
