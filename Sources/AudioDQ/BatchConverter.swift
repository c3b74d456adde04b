import Foundation
import Synchronization
import SoundFileIO

/// Options of a batch conversion (`audiodq convert IN_DIR|MANIFEST OUT_DIR`).
public struct BatchOptions: Sendable {
    public var input: String
    public var outputDir: String
    /// What to do with every file, as for one file (`ConvertOptions.settings`). `format` nil:
    /// `.f32`, and `.f64` for 24-bit input (float32 cannot carry its noise); an explicit `.f32`
    /// refuses 24-bit files. `raw` reads the headerless files. `streamName` must be nil: each
    /// file's noise is keyed by its own SHA-256.
    public var settings = DequantSettings()
    /// Files converted at once (each file itself on one thread).
    public var jobs = 1
    public var shard: Shard?
    /// Redo outputs that are up to date.
    public var force = false

    public init(input: String, outputDir: String, settings: DequantSettings = DequantSettings()) {
        self.input = input
        self.outputDir = outputDir
        self.settings = settings
    }
}

/// One line of `OUT_DIR/manifest-<shard>.jsonl`.
public struct BatchRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case ok, skipped, failed }
    public var source: String
    public var relative: String
    /// nil for a file that is not converted (not audio that audiodq reads exactly).
    public var output: String?
    /// Present only when this file's output format is not the batch's: 24-bit input under the
    /// default `f32` goes to `f64` (`float64`).
    public var format: ValueFormat?
    public var dtype: ValueType?
    public var frames: Int?
    public var binCount: Int?
    /// SHA-256 of the output file.
    public var sha256: String?
    /// The quantizer's name (`Quantizer.description`) when its cells are not the container's
    /// own codes; absent for container cells (the sidecar records it either way).
    public var quantizer: String? = nil
    public var status: Status
    public var error: String?
}

public struct BatchProgress: Sendable {
    public var done: Int
    public var total: Int
    public var ok: Int
    public var skipped: Int
    public var failed: Int
    public var samples: Int
    public var elapsed: Double
    public var last: BatchRecord
}

public struct BatchSummary: Sendable {
    public var records: [BatchRecord]
    public var ok: Int
    public var skipped: Int
    public var failed: Int
    public var samples: Int
    public var seconds: Double
    public var manifest: String
    /// Of `skipped`: files that are not audio audiodq reads exactly (each has its reason).
    public var notConverted: Int
    /// Of `ok`: 24-bit files written as `f64` because the format was left at its default.
    public var widened: Int
    /// The quantizers other than container cells whose cells hold this run's outputs (converted
    /// or up to date), in manifest order of their first file; empty when every output is in
    /// container cells.
    public var quantizers: [BatchQuantizerUse] = []

    /// One note per entry of `quantizers`, for the front end to show: "FIRST: quantizer
    /// CHOICE = NAME (REASON), and N more files; the manifest names each file's quantizer".
    public var quantizerNotes: [Diagnostic] {
        quantizers.map { q in
            let more = q.files > 1 ? ", and \(q.files - 1) more file\(q.files > 2 ? "s" : "")" : ""
            return Diagnostic(AudioDQError.quantizerInUse(path: q.example,
                                                          detail: "quantizer \(q.choice) = \(q.quantizer) (\(q.reason))\(more); the manifest names each file's quantizer"),
                              severity: .note)
        }
    }
}

/// One quantizer other than container cells in a batch: its name (`Quantizer.description`, as in
/// the manifest), the choice that names it (`QuantizerChoice`), how many files' outputs are in
/// its cells, the first of them in manifest order (its source path) and why it was chosen there.
public struct BatchQuantizerUse: Sendable, Equatable {
    public var quantizer: String
    public var choice: String
    public var files: Int
    public var example: String
    public var reason: String
}

/// Converts a corpus: one output per file, mirrored under OUT_DIR, noise keyed by
/// (seed, the file's SHA-256) as in a single conversion, so every output is byte-identical to
/// converting that file alone with `--seed S`, whatever `jobs`, `shard` or order.
///
/// Safe to interrupt and to run twice at once, on one host or several: each output, its sidecar
/// and the manifest are written to `.NAME.audiodq-part`, held with an exclusive `flock` (the
/// claim: a concurrent run skips the file), and renamed into place; a re-run on any host removes
/// temporary files whose lock is free (their run died), skips outputs that are up to date
/// (`upToDate`: the sidecar records the value resolved for this run) and redoes the rest
/// (outputs keyed by the relative path, the default of earlier versions, are redone). The
/// claim is the output's own temporary file, so a file costs two file creations (output, sidecar)
/// and no deletion: on ext4, creating inodes next to recently deleted ones is the slow part of
/// converting thousands of short files. A bad file is reported (its manifest line, and an error
/// `Diagnostic` to `diagnostics`) and the batch goes on.
public enum BatchConverter {
    /// `diagnostics` gets one error per failed file and `progress` one report per file, both
    /// from the worker threads, serialised and in the order the files finish (a failed file's
    /// diagnostic before its progress).
    public static func run(_ options: BatchOptions, diagnostics: DiagnosticSink = { _ in },
                           progress: @Sendable (BatchProgress) -> Void = { _ in }) throws -> BatchSummary {
        let start = Date()
        if options.settings.streamName != nil {
            throw AudioDQError.invalidArgument("\(options.input): a stream name keys one file's noise; batch conversion keys each file by its SHA-256")
        }
        let plan = try BatchPlan(input: options.input, outputDir: options.outputDir, format: options.settings.corpusFormat, includeRaw: options.settings.raw != nil)
        if !plan.items.contains(where: { $0.skip == nil }) {
            let others = plan.items.count
            throw AudioDQError.malformed(path: options.input, reason: "no audio files found" + (others > 0 ? " (\(others) other file\(others == 1 ? "" : "s"))" : ""))
        }
        let items = plan.items.filter { options.shard?.contains(relativePath: $0.relative) ?? true }
        // the model is read and hashed once per run; when it cannot be read every file fails
        // with the reason
        let model = Result { try options.settings.loadModel() }
        try makeDirectory(options.outputDir)
        cleanLeftovers(in: options.outputDir)

        let records = Mutex<[BatchRecord?]>([BatchRecord?](repeating: nil, count: items.count))
        let cells = Mutex<[Cells?]>([Cells?](repeating: nil, count: items.count))
        let next = Atomic<Int>(0)
        let counters = Mutex<(done: Int, ok: Int, skipped: Int, failed: Int, samples: Int)>((0, 0, 0, 0, 0))
        let jobs = max(1, min(options.jobs, items.count))
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= items.count { break }
                let (record, samples, failure, used) = convertOne(items[i], options, model: model)
                records.withLock { $0[i] = record }
                if record.status != .failed { cells.withLock { $0[i] = used } }
                let p = counters.withLock { c -> BatchProgress in
                    if let failure { diagnostics(failure) }
                    c.done += 1
                    c.samples += samples
                    switch record.status {
                    case .ok: c.ok += 1
                    case .skipped: c.skipped += 1
                    case .failed: c.failed += 1
                    }
                    return BatchProgress(done: c.done, total: items.count, ok: c.ok, skipped: c.skipped, failed: c.failed,
                                         samples: c.samples, elapsed: Date().timeIntervalSince(start), last: record)
                }
                progress(p)
            }
        }
        let all = records.withLock { $0.compactMap { $0 } }
        let c = counters.withLock { $0 }
        let manifest = options.outputDir + "/manifest-\(options.shard?.description ?? "all").jsonl"
        // one flush for every output of the run, before the manifest that lists them
        if AtomicOutput.durable { try AtomicOutput.syncFileSystem(of: options.outputDir) }
        try writeManifest(all, to: manifest)
        return BatchSummary(records: all, ok: c.ok, skipped: c.skipped, failed: c.failed, samples: c.samples,
                            seconds: Date().timeIntervalSince(start), manifest: manifest,
                            notConverted: items.filter { $0.skip != nil }.count,
                            widened: all.filter { $0.status == .ok && $0.format != nil }.count,
                            quantizers: uses(cells.withLock { $0 }, items))
    }

    /// A file's quantizer other than container cells and why it was chosen (`convertOne`).
    typealias Cells = (quantizer: Quantizer, reason: String)

    /// `BatchSummary.quantizers`: the files' non-container cells grouped by quantizer name, in
    /// the order of each group's first file.
    static func uses(_ cells: [Cells?], _ items: [BatchPlan.Item]) -> [BatchQuantizerUse] {
        var out: [BatchQuantizerUse] = []
        for (i, c) in cells.enumerated() {
            guard let c else { continue }
            let name = c.quantizer.description
            if let g = out.firstIndex(where: { $0.quantizer == name }) {
                out[g].files += 1
            } else {
                out.append(BatchQuantizerUse(quantizer: name, choice: QuantizerChoice(c.quantizer).description, files: 1,
                                             example: items[i].source, reason: c.reason))
            }
        }
        return out
    }

    /// One file: opened once, hashed from that descriptor, resolved (`DequantSettings.resolve`,
    /// target `.corpus`: 24-bit input under the default format goes to `.f64`), then skipped when
    /// its output is up to date (`upToDate`) or converted by the one conversion
    /// (`Converter.convert`) into outputs claimed here. Returns the file's record, its samples,
    /// the diagnostic of its failure (nil unless failed) and, for an output converted or up to
    /// date, its quantizer with the reason when that is not container cells.
    static func convertOne(_ item: BatchPlan.Item, _ options: BatchOptions, model: Result<ModelFile?, Error>) -> (BatchRecord, Int, Diagnostic?, Cells?) {
        var record = BatchRecord(source: item.source, relative: item.relative, output: item.output, status: .failed)
        if let reason = item.skip {
            record.output = nil
            record.status = .skipped
            record.error = reason
            return (record, 0, nil, nil)
        }
        if let first = item.conflict {
            let error = AudioDQError.sameOutput(path: item.source, first: first, output: item.output)
            record.error = "\(error)"
            return (record, 0, Diagnostic(error), nil)
        }
        var cells: Cells?
        do {
            let raw = item.headerless ? options.settings.raw : nil
            let reader = try Converter.open(item.source, raw: raw)
            let state = reader.fileState
            let source = try SourceScan.scan(reader, path: item.source, raw: raw, hash: true,
                                             detect: options.settings.needsDetection(reader.info.encoding))
            let modelFile = try model.get()
            let resolved = try options.settings.resolve(for: source, target: .corpus(stem: item.stem), model: modelFile)
            if resolved.format != options.settings.corpusFormat {
                // the batch's default format does not hold this file (24-bit: float32 cannot carry its noise)
                record.output = item.stem + "." + resolved.format.rawValue
                record.format = resolved.format
                record.dtype = resolved.dtype
            }
            if resolved.quantizer.kind != .container {
                record.quantizer = resolved.quantizer.description
                cells = (resolved.quantizer, resolved.quantizerReason ?? "asked for")
            }
            let output = record.output!
            try makeDirectory((output as NSString).deletingLastPathComponent)
            if !options.force, let sc = upToDate(output: output, resolved) {
                record.status = .skipped
                record.frames = sc.source.frames
                record.binCount = sc.source.binCount
                record.sha256 = try FileHasher.hash(path: output)   // verified, not trusted from the sidecar
                return (record, 0, nil, cells)
            }
            // the sidecar's temporary file is a locked claim too: a killed run's is free to be taken
            // over by a run on any host, like its data
            guard let out = try AtomicOutput(claiming: output, inputs: [item.source]),
                  let sidecar = try AtomicOutput(claiming: Sidecar.path(for: output), inputs: [item.source]) else {
                record.status = .skipped
                record.error = "claimed by another run"
                return (record, 0, nil, nil)
            }
            let sc = try Converter.convert(reader, since: state, resolved, model: modelFile,
                                           into: Converter.Outputs(data: out, sidecar: sidecar), recording: item.relative,
                                           threads: 1, chunkFrames: Converter.defaultChunkFrames,
                                           hashOutput: true, flush: false)
            record.status = .ok
            record.frames = sc.source.frames
            record.binCount = sc.source.binCount
            record.sha256 = try sc.output.sha256 ?? FileHasher.hash(path: output)
            return (record, sc.source.frames * sc.source.channels, nil, cells)
        } catch {
            record.status = .failed
            record.error = "\(error)"
            return (record, 0, Diagnostic(error), nil)
        }
    }

    /// The existing sidecar of `output` when the output is up to date, nil otherwise. Up to date
    /// means exactly: the sidecar reads back (`Sidecar.resolved`) as the value resolved for this
    /// run — same source bytes read the same way, same format, dtype, range, seed, stream, method,
    /// model bytes, u variant, generator and quantizer cells (not the reason) — and the output
    /// file has the size that implies
    /// (frames × channels values of the dtype: exactly for `.f32`/`.f64`, at least for the
    /// headers of `.npy`/`.wav`). A sidecar that lacks a field this needs (written by an earlier
    /// version) or cannot be read does not match, so its output is redone.
    static func upToDate(output: String, _ resolved: ResolvedDequant) -> Sidecar? {
        guard let sc = try? Sidecar.load(path: Sidecar.path(for: output)), sc.resolved == resolved else { return nil }
        var st = stat()
        guard stat(output, &st) == 0 else { return nil }
        // Sidecar.load checked that frames × channels × 8 bytes cannot overflow
        let values = Int64(sc.source.frames * sc.source.channels) * Int64(sc.output.dtype.byteWidth)
        switch sc.output.format {
        case .f32, .f64: if Int64(st.st_size) != values { return nil }
        case .npy, .wav: if Int64(st.st_size) < values { return nil }
        }
        return sc
    }

    static func processAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// Removes temporary outputs left under `dir` by runs that died: `.NAME.audiodq-part` files
    /// (batch outputs, sidecars, manifests) whose lock is free, whatever host wrote them, and this
    /// host's `.NAME.audiodq-tmp-PID-N-HOST` files (single conversions) whose process is gone.
    public static func cleanLeftovers(in dir: String) {
        guard let e = FileManager.default.enumerator(atPath: dir) else { return }
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            guard AtomicOutput.isLeftover(name) else { continue }
            let full = dir + "/" + rel
            if name.hasSuffix(AtomicOutput.partSuffix) {
                AtomicOutput.removeIfAbandoned(part: full)
            } else if let pid = AtomicOutput.localOwner(ofTemporary: name), !processAlive(pid) {
                unlink(full)
            }
        }
    }

    static func makeDirectory(_ path: String) throws {
        if path.isEmpty || FileSystem.isDirectory(path) { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw AudioDQError.cannotWrite(path: path, reason: "cannot create folder")
        }
    }

    static func writeManifest(_ records: [BatchRecord], to path: String) throws {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for r in records {
            data.append(try e.encode(r))
            data.append(0x0A)
        }
        // claimed like the outputs, so a killed run's temporary manifest is any host's to remove;
        // a second run of the same shard writing its manifest at this moment holds the claim, and
        // then this one writes under a private temporary name
        try AtomicOutput.write([UInt8](data), into: AtomicOutput(claiming: path) ?? AtomicOutput(path: path, force: true))
    }
}
