import Foundation
import Synchronization
import SoundFileIO

/// Options of a batch conversion (`audiodq convert IN_DIR|MANIFEST OUT_DIR`).
public struct BatchOptions: Sendable {
    public var input: String
    public var outputDir: String
    /// nil: `.f32`, and `.f64` for 24-bit input (float32 cannot carry its noise). An explicit
    /// `.f32` refuses 24-bit files.
    public var format: ValueFormat?
    public var range: DequantRange?
    public var dtype: ValueType?
    public var seed: UInt64 = 0
    public var raw: RawFormat?
    /// Files converted at once (each file itself on one thread).
    public var jobs = 1
    public var shard: Shard?
    /// Redo outputs whose sidecar already matches.
    public var force = false
    public var method: DequantMethod = .uniform
    public var modelPath: String?

    public init(input: String, outputDir: String) {
        self.input = input
        self.outputDir = outputDir
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
}

/// Converts a corpus: one output per file, mirrored under OUT_DIR, noise keyed by
/// (seed, the file's SHA-256) as in a single conversion, so every output is byte-identical to
/// converting that file alone with `--seed S`, whatever `jobs`, `shard` or order.
///
/// Safe to interrupt and to run twice at once, on one host or several: each output, its sidecar
/// and the manifest are written to `.NAME.audiodq-part`, held with an exclusive `flock` (the
/// claim: a concurrent run skips the file), and renamed into place; a re-run on any host removes
/// temporary files whose lock is free (their run died), skips outputs whose
/// sidecar matches everything that decides the output's bytes (`matchingSidecar`) and redoes the
/// rest (outputs keyed by the relative path, the default of earlier versions, are redone). The
/// claim is the output's own temporary file, so a file costs two file creations (output, sidecar)
/// and no deletion: on ext4, creating inodes next to recently deleted ones is the slow part of
/// converting thousands of short files. A bad file is reported (its manifest line, and an error
/// `Diagnostic` to `diagnostics`) and the batch goes on.
public enum BatchConverter {
    /// `diagnostics` gets one error per failed file and `progress` one report per file, both
    /// from the worker threads, serialised and in the order the files finish (a failed file's
    /// diagnostic before its progress).
    public static func run(_ o: BatchOptions, diagnostics: DiagnosticSink = { _ in },
                           progress: @Sendable (BatchProgress) -> Void = { _ in }) throws -> BatchSummary {
        let start = Date()
        let plan = try BatchPlan(input: o.input, outputDir: o.outputDir, format: o.format ?? .f32, includeRaw: o.raw != nil)
        if !plan.items.contains(where: { $0.skip == nil }) {
            let others = plan.items.count
            throw AudioDQError.malformed(path: o.input, reason: "no audio files found" + (others > 0 ? " (\(others) other file\(others == 1 ? "" : "s"))" : ""))
        }
        let items = plan.items.filter { o.shard?.contains(relativePath: $0.relative) ?? true }
        // what identifies the model for up-to-date checks: its bytes, not its path (nil when it
        // cannot be read; then every file fails with the reason, as without a sidecar)
        let modelSHA256 = o.method == .variational ? o.modelPath.flatMap { try? FileHasher.hash(path: $0) } : nil
        try makeDirectory(o.outputDir)
        cleanLeftovers(in: o.outputDir)

        let records = Mutex<[BatchRecord?]>([BatchRecord?](repeating: nil, count: items.count))
        let next = Atomic<Int>(0)
        let counters = Mutex<(done: Int, ok: Int, skipped: Int, failed: Int, samples: Int)>((0, 0, 0, 0, 0))
        let jobs = max(1, min(o.jobs, items.count))
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= items.count { break }
                let (record, samples, failure) = convertOne(items[i], o, modelSHA256: modelSHA256)
                records.withLock { $0[i] = record }
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
        let manifest = o.outputDir + "/manifest-\(o.shard?.description ?? "all").jsonl"
        // one flush for every output of the run, before the manifest that lists them
        if AtomicOutput.durable { try AtomicOutput.syncFileSystem(of: o.outputDir) }
        try writeManifest(all, to: manifest)
        return BatchSummary(records: all, ok: c.ok, skipped: c.skipped, failed: c.failed, samples: c.samples,
                            seconds: Date().timeIntervalSince(start), manifest: manifest,
                            notConverted: items.filter { $0.skip != nil }.count,
                            widened: all.filter { $0.status == .ok && $0.format != nil }.count)
    }

    /// The file's record, its samples, and the diagnostic of its failure (nil unless failed).
    static func convertOne(_ item: BatchPlan.Item, _ o: BatchOptions, modelSHA256: String?) -> (BatchRecord, Int, Diagnostic?) {
        var record = BatchRecord(source: item.source, relative: item.relative, output: item.output, status: .failed)
        if let reason = item.skip {
            record.output = nil
            record.status = .skipped
            record.error = reason
            return (record, 0, nil)
        }
        if let first = item.conflict {
            let error = AudioDQError.sameOutput(path: item.source, first: first, output: item.output)
            record.error = "\(error)"
            return (record, 0, Diagnostic(error))
        }
        do {
            let (sourceHash, sourceState) = try FileHasher.hashWithState(path: item.source)
            do {
                let (done, samples) = try attempt(item, o, format: o.format ?? .f32, output: item.output, sourceHash: sourceHash,
                                                  sourceState: sourceState, modelSHA256: modelSHA256, record)
                return (done, samples, nil)
            } catch AudioDQError.float32CannotHold where o.format == nil {
                // 24-bit under the default format: float32 cannot carry its noise, float64 can
                record.output = item.stem + "." + ValueFormat.f64.rawValue
                record.format = .f64
                record.dtype = .float64
                let (done, samples) = try attempt(item, o, format: .f64, output: record.output!, sourceHash: sourceHash,
                                                  sourceState: sourceState, modelSHA256: modelSHA256, record)
                return (done, samples, nil)
            }
        } catch {
            record.status = .failed
            record.error = "\(error)"
            return (record, 0, Diagnostic(error))
        }
    }

    /// Converts (or skips, when its sidecar matches) `item` into `output` as `format`.
    static func attempt(_ item: BatchPlan.Item, _ o: BatchOptions, format: ValueFormat, output: String,
                        sourceHash: String, sourceState: FileState? = nil, modelSHA256: String?,
                        _ start: BatchRecord) throws -> (BatchRecord, Int) {
        var record = start
        try makeDirectory((output as NSString).deletingLastPathComponent)
        if !o.force, let sc = matchingSidecar(item, output: output, format: format, o, sourceHash: sourceHash,
                                              modelSHA256: modelSHA256) {
            record.status = .skipped
            record.frames = sc.source.frames
            record.binCount = sc.source.binCount
            record.sha256 = try FileHasher.hash(path: output)   // verified, not trusted from the sidecar
            return (record, 0)
        }
        // the sidecar's temporary file is a locked claim too: a killed run's is free to be taken
        // over by a run on any host, like its data
        guard let out = try AtomicOutput(claiming: output, inputs: [item.source]),
              let sidecar = try AtomicOutput(claiming: Sidecar.path(for: output), inputs: [item.source]) else {
            record.status = .skipped
            record.error = "claimed by another run"
            return (record, 0)
        }
        var c = ConvertOptions(input: item.source, output: output)
        c.format = format
        c.raw = item.headerless ? o.raw : nil
        c.range = o.range
        c.dtype = o.dtype
        c.seed = o.seed
        c.recordedSourcePath = item.relative
        c.force = true
        c.threads = 1
        c.sourceSHA256 = sourceHash
        c.sourceState = sourceState
        c.hashOutput = true
        c.method = o.method
        c.modelPath = o.modelPath
        let sc = try Converter.run(c, claimed: out, claimedSidecar: sidecar, flush: false)
        record.status = .ok
        record.frames = sc.source.frames
        record.binCount = sc.source.binCount
        record.sha256 = try sc.output.sha256 ?? FileHasher.hash(path: output)
        return (record, sc.source.frames * sc.source.channels)
    }

    /// The existing sidecar when it describes this exact conversion and the output is whole: the
    /// same source bytes (SHA-256) read the same way (the `--raw` format of a headerless file:
    /// encoding, rate, channels, byte order), the same format, resolved range and resolved dtype
    /// (defaults applied as `Converter` applies them), seed, stream, method, and model (path and
    /// SHA-256 of the file, `modelSHA256`). A sidecar that lacks a field this needs (written by an
    /// earlier version) does not match, so its output is redone.
    static func matchingSidecar(_ item: BatchPlan.Item, output: String, format: ValueFormat, _ o: BatchOptions,
                                sourceHash: String, modelSHA256: String?) -> Sidecar? {
        guard let sc = try? Sidecar.load(path: Sidecar.path(for: output)) else { return nil }
        let range = o.range ?? (format == .wav ? .symmetric : .unit)
        guard sc.source.sha256 == sourceHash, sc.source.raw == (item.headerless ? o.raw?.spec : nil),
              sc.dequantization.seed == o.seed,
              sc.dequantization.method == o.method.rawValue, sc.dequantization.model == o.modelPath,
              o.method == .uniform || modelSHA256 != nil, sc.dequantization.modelSHA256 == modelSHA256,
              sc.dequantization.range == range,
              sc.dequantization.streamName == sourceHash, sc.output.format == format,
              let type = try? Converter.resolveType(format: format, requested: o.dtype, encoding: sc.source.encoding,
                                                    input: item.source, output: output),
              sc.output.dtype == type else { return nil }
        var st = stat()
        guard stat(output, &st) == 0 else { return nil }
        let values = Int64(sc.source.frames * sc.source.channels) * Int64(sc.output.dtype.byteWidth)
        switch format {
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
