/// The kind of a failure, whatever module raised it: the small set the front end reasons about
/// (after libsndfile's own small error set). Every library error maps to exactly one kind
/// (`Diagnostic.init(_:)`); `audiodq` exits 64 for `.usage` and 1 for every other kind.
public enum ErrorKind: String, Sendable, CaseIterable, Codable {
    /// The request contradicts itself or the model it names (a setting the model cannot run, an
    /// architecture setting that differs from the model being resumed). Exit code 64.
    case usage
    /// An input cannot be used as asked: missing, a directory, empty, changed while it was read,
    /// already continuous, or inconsistent with the other inputs (another encoding, rate or K in
    /// one corpus; no audio files at all). Exit code 1.
    case input
    /// An input's bytes are not what its format promises: not audio libsndfile opens, a corrupt
    /// or truncated header, an encoding or container audiodq cannot read exactly, a partial
    /// frame, a malformed sidecar, value file or manifest, a value outside the range. Exit code 1.
    case format
    /// The output cannot be placed where asked: it exists, is an input or a directory, its folder
    /// is missing, its format cannot hold what would be written. Exit code 1.
    case output
    /// A model file or what it is used for: not a model or a corrupt checkpoint, another method or
    /// K than the data, nothing to resume, training data a model cannot use, a non-finite loss.
    /// Exit code 1.
    case model
    /// The system failed a read, a write or a library load (disk full, permissions, EIO, OpenBLAS
    /// missing), or an error of no audiodq module. Exit code 1.
    case io
}
