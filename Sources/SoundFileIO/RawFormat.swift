import CSndFile
import DiscreteAudio

/// What a headerless RAW file holds: `encoding:rate:channels[:le|be]`, e.g. `ulaw:8000:1`,
/// `s16:16000:2:be`. Multi-byte samples default to little-endian.
public struct RawFormat: Sendable, Equatable {
    public var encoding: SampleEncoding
    public var sampleRate: Int
    public var channels: Int
    public var bigEndian: Bool

    public init(encoding: SampleEncoding, sampleRate: Int, channels: Int, bigEndian: Bool = false) {
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.channels = channels
        self.bigEndian = bigEndian
    }

    /// The canonical `encoding:rate:channels[:le|be]` (the encoding by its `SampleEncoding` raw
    /// value; the byte order only for multi-byte samples, where it matters), which
    /// `init(spec:)` reads back as this format. Two formats that read a file alike have the
    /// same spec.
    public var spec: String {
        "\(encoding.rawValue):\(sampleRate):\(channels)" + (encoding.bits > 8 ? (bigEndian ? ":be" : ":le") : "")
    }

    /// What libsndfile opens a headerless file of this format with: rate, channels and
    /// `AudioContainer.raw.sfFormat(encoding, bigEndian:)`, the one mapping of a RAW encoding
    /// and byte order to a libsndfile format (shared with `CodeWriter`).
    var sfInfo: SF_INFO {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = AudioContainer.raw.sfFormat(encoding, bigEndian: bigEndian)
        return info
    }

    /// Parses `encoding:rate:channels[:le|be]`.
    public init(spec: String) throws(SoundFileError) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4 else {
            throw .invalidRawFormat(spec: spec, reason: "expected encoding:rate:channels[:le|be]")
        }
        guard let e = SampleEncoding(name: parts[0]) else {
            throw .invalidRawFormat(spec: spec, reason: "unknown encoding '\(parts[0])' (ulaw, alaw, u8, s8, s16, s24)")
        }
        guard let r = Int(parts[1]), r > 0, r <= 10_000_000 else {
            throw .invalidRawFormat(spec: spec, reason: "sample rate must be a positive integer")
        }
        guard let c = Int(parts[2]), c > 0, c <= 1024 else {
            throw .invalidRawFormat(spec: spec, reason: "channels must be an integer from 1 to 1024")
        }
        var big = false
        if parts.count == 4 {
            switch parts[3].lowercased() {
            case "le": big = false
            case "be": big = true
            default: throw .invalidRawFormat(spec: spec, reason: "byte order must be le or be")
            }
        }
        self.init(encoding: e, sampleRate: r, channels: c, bigEndian: big)
    }
}
