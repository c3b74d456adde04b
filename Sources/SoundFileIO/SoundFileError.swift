/// Errors of the SoundFileIO module. Every case names the file; `description` is one line and
/// names no command-line flag (the CLI adds its hints).
public enum SoundFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    case isDirectory(path: String)
    case emptyFile(path: String)
    /// libsndfile could not open the file (not audio, truncated header, …); `reason` is its message.
    case cannotOpen(path: String, reason: String)
    /// The samples are floating point already: there is nothing to dequantize.
    case alreadyContinuous(path: String, subtype: String)
    /// An encoding audiodq cannot read as exact codes (lossy or adaptive codecs, 32-bit PCM, …).
    case unsupportedEncoding(path: String, subtype: String)
    case unsupportedContainer(path: String, detail: String)
    /// Headerless data opened without a raw format (encoding, rate, channels) to read it with.
    case headerlessWithoutFormat(path: String)
    /// The header and the bytes in the file disagree.
    case inconsistentHeader(path: String, detail: String)
    /// Headerless data whose size is not a whole number of frames (`frameBytes` = channels ×
    /// bytes per sample): the trailing bytes would be dropped.
    case partialFrame(path: String, bytes: Int64, frameBytes: Int64)
    /// The file ended before the number of frames its header declares.
    case truncated(path: String, expectedFrames: Int64, gotFrames: Int64)
    case readFailed(path: String, reason: String)
    case cannotCreate(path: String, reason: String)
    /// The container cannot hold the encoding (e.g. WAV with signed 8-bit).
    case containerCannotHold(path: String, container: String, encoding: String)
    case writeFailed(path: String, reason: String)
    /// A raw format spec (`encoding:rate:channels[:le|be]`) that does not parse.
    case invalidRawFormat(spec: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let p): return "\(p): no such file"
        case .isDirectory(let p): return "\(p): is a directory, not an audio file"
        case .emptyFile(let p): return "\(p): file is empty"
        case .cannotOpen(let p, let r): return "\(p): cannot open as audio: \(r)"
        case .alreadyContinuous(let p, let s):
            return "\(p): samples are already continuous (\(s)); nothing to dequantize"
        case .unsupportedEncoding(let p, let s):
            return "\(p): unsupported encoding \(s): audiodq reads G.711 mu-law/A-law and 8/16/24-bit PCM exactly"
        case .unsupportedContainer(let p, let d): return "\(p): unsupported container: \(d)"
        case .headerlessWithoutFormat(let p): return "\(p): unsupported container: headerless RAW needs its format (encoding:rate:channels)"
        case .inconsistentHeader(let p, let d): return "\(p): corrupt header: \(d)"
        case .partialFrame(let p, let b, let f):
            let what = b == 1 ? "1 byte is not a whole frame" : "\(b) bytes are not whole frames"
            return "\(p): \(what) of \(f) bytes (\(Self.count(b / f, "frame")) and \(Self.count(b % f, "byte")) left over)"
        case .truncated(let p, let e, let g): return "\(p): truncated: header declares \(e) frames, file holds \(g)"
        case .readFailed(let p, let r): return "\(p): read failed: \(r)"
        case .cannotCreate(let p, let r): return "\(p): cannot create: \(r)"
        case .containerCannotHold(let p, let c, let e): return "\(p): container \(c) cannot hold \(e)"
        case .writeFailed(let p, let r): return "\(p): write failed: \(r)"
        case .invalidRawFormat(let s, let r): return "invalid raw format '\(s)': \(r)"
        }
    }

    /// "1 frame", "0 frames", "2 frames".
    private static func count<N: BinaryInteger>(_ n: N, _ unit: String) -> String { "\(n) \(unit)\(n == 1 ? "" : "s")" }
}
