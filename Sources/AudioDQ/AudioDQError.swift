import DiscreteAudio
import SoundFileIO

/// Errors of the AudioDQ front end. `description` is one line that names the file and the
/// problem, and no command-line flag (the CLI adds its hints); `Diagnostic` gives each case its
/// `ErrorKind`.
public enum AudioDQError: Error, Sendable, CustomStringConvertible {
    case soundFile(SoundFileError)
    case outputIsInput(path: String)
    case outputExists(path: String)
    case outputDirectoryMissing(path: String, directory: String)
    case outputIsDirectory(path: String)
    /// Batch mode: the source `path` maps to the output `output` that the earlier source
    /// `first` maps to as well.
    case sameOutput(path: String, first: String, output: String)
    /// A folder given as the input of a single-file conversion (its output names a file).
    case inputIsFolder(path: String)
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String, reason: String)
    /// The source changed (size, times or identity) between hashing it and reading its samples.
    case sourceChanged(path: String)
    case unknownOutputFormat(path: String, allowed: String)
    /// 24-bit bins are one float32 step wide near full scale: noise cannot be carried. `path` is
    /// the source; `output` the float32 output asked for, when there is one.
    case float32CannotHold(path: String, encoding: String, output: String? = nil)
    case missingSidecar(path: String, sidecar: String)
    case badSidecar(path: String, reason: String)
    case badValue(path: String, index: Int, value: Double, reason: String)
    case malformed(path: String, reason: String)
    case mismatch(path: String, detail: String)
    case invalidArgument(String)
    /// `train`/`eval` inputs (files, folders, manifests) that list no file at all.
    case noAudioFiles(inputs: [String])
    /// `train`/`eval`: none of the `files` listed could be read as discrete audio (each was
    /// skipped with a warning).
    case noReadableAudio(files: Int)
    /// The output's format has a fixed element type that differs from the one asked for.
    case dtypeContradictsFormat(path: String, dtype: ValueType, format: ValueFormat)
    /// A method that needs a model was asked for without one.
    case modelRequired(method: DequantMethod)
    /// Streaming chunks of `chunkFrames` frames cannot hold q's receptive field
    /// (`receptiveField` frames each side); `path` is the source.
    case chunkShorterThanModelContext(path: String, chunkFrames: Int, receptiveField: Int)
    /// `train --resume` of a model file that does not exist.
    case noModelToResume(path: String)
    /// `train --resume` with an architecture setting that differs from the checkpoint's (a usage
    /// error: the architecture of a resumed model is the checkpoint's). `given`, `model`: the
    /// setting with the value given and with the model's (`ArchitectureRequest.Conflict`).
    case conflictsWithModel(path: String, setting: ArchitectureRequest.Setting, given: String, model: String)
    /// The quantizer asked for (`QuantizerChoice` spelling) cannot be the file's.
    case quantizerDoesNotFit(path: String, quantizer: String, reason: String)
    /// Not an error: the quantizer `train`/`eval` use for a group of files (sent as a note).
    case quantizerInUse(path: String, detail: String)
    /// Not an error: a corpus mixes quantizers (sent as a warning; `detail` names the files).
    case mixedQuantizers(detail: String)

    /// A quantizer that the data contradicts: sample `index` (interleaved; `frame`, `channel`)
    /// holds `value` (the code as the signed PCM value, or the G.711 byte's bin), which it
    /// cannot produce.
    case quantizerContradicted(path: String, quantizer: String, index: Int, frame: Int, channel: Int, value: Int)
    /// `restore`: the cells asked for are not the sidecar's (`path` is the sidecar).
    case contradictsSidecar(path: String, given: String, sidecar: String)

    public var description: String {
        switch self {
        case .soundFile(let e): return e.description
        case .outputIsInput(let p): return "\(p): output is the input file; refusing to overwrite an input"
        case .outputExists(let p): return "\(p): output exists"
        case .outputDirectoryMissing(let p, let d): return "\(p): output directory \(d) does not exist"
        case .outputIsDirectory(let p): return "\(p): output is a directory"
        case .sameOutput(let p, let f, let o): return "\(p): maps to the same output as \(f): \(o)"
        case .inputIsFolder(let p): return "\(p): is a directory"
        case .cannotWrite(let p, let r): return "\(p): cannot write: \(r)"
        case .cannotRead(let p, let r): return "\(p): cannot read: \(r)"
        case .sourceChanged(let p): return "\(p): changed while it was read"
        case .unknownOutputFormat(let p, let a): return "\(p): unknown output format (use \(a))"
        case .float32CannotHold(let p, let e, let o):
            return "\(p): \(e) cannot carry dequantization noise in float32 (one bin is one float32 step near full scale)\(o.map { ", output \($0)" } ?? "")"
        case .missingSidecar(let p, let s):
            return "\(p): no sidecar \(s)"
        case .badSidecar(let p, let r): return "\(p): bad sidecar: \(r)"
        case .badValue(let p, let i, let v, let r): return "\(p): sample \(i): \(v) \(r)"
        case .malformed(let p, let r): return "\(p): \(r)"
        case .mismatch(let p, let d): return "\(p): \(d)"
        case .invalidArgument(let s): return s
        case .noAudioFiles(let i): return "no audio files in \(i.joined(separator: ", "))"
        case .noReadableAudio(let n): return "none of the \(n) files could be read as discrete audio"
        case .dtypeContradictsFormat(let p, let t, let f): return "\(p): element type \(t.rawValue) contradicts the .\(f.rawValue) extension"
        case .modelRequired(let m): return "\(m.rawValue) dequantization needs a model"
        case .chunkShorterThanModelContext(let p, let c, let r):
            return "\(p): a chunk of \(c) frames is shorter than q's receptive field (\(r) frames each side)"
        case .quantizerContradicted(let p, let q, let i, let f, let c, let v):
            return "\(p): sample \(i) (frame \(f), channel \(c)) is \(v), which the quantizer \(q) cannot produce"
        case .noModelToResume(let p): return "\(p): no model to resume"
        case .contradictsSidecar(let p, let g, let s): return "\(p): the cells asked for, \(g), are not the sidecar's, \(s)"
        case .quantizerDoesNotFit(let p, let q, let r): return "\(p): quantizer \(q) does not fit: \(r)"
        case .quantizerInUse(let p, let d): return "\(p): \(d)"
        case .mixedQuantizers(let d): return "quantizers in one corpus: \(d)"
        case .conflictsWithModel(let p, let f, let g, let m):
            return "\(p): \(f.name) \(g) differs from the model's \(f == .preset ? m : "\(f.name) \(m)"); a resumed model keeps its \(f.keptAs)"
        }
    }
}
