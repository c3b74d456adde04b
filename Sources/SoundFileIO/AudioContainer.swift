import CSndFile
import DiscreteAudio

/// The file containers audiodq reads and writes discrete audio in.
///
/// `raw` is headerless: its encoding, rate and channel count come from a `RawFormat`.
public enum AudioContainer: String, Sendable, CaseIterable, Codable {
    case wav, wavex, rf64, w64, aiff, au, flac, raw, caf

    /// libsndfile's major format constant.
    var sfMajor: Int32 {
        switch self {
        case .wav: return Int32(SF_FORMAT_WAV)
        case .wavex: return Int32(SF_FORMAT_WAVEX)
        case .rf64: return Int32(SF_FORMAT_RF64)
        case .w64: return Int32(SF_FORMAT_W64)
        case .aiff: return Int32(SF_FORMAT_AIFF)
        case .au: return Int32(SF_FORMAT_AU)
        case .flac: return Int32(SF_FORMAT_FLAC)
        case .raw: return Int32(SF_FORMAT_RAW)
        case .caf: return Int32(SF_FORMAT_CAF)
        }
    }

    init?(sfMajor: Int32) {
        guard let c = AudioContainer.allCases.first(where: { $0.sfMajor == sfMajor }) else { return nil }
        self = c
    }

    /// The container a file name's extension names (`.wav`, `.aif`/`.aiff`/`.aifc`, `.au`/`.snd`,
    /// `.flac`, `.raw`/`.pcm`, `.w64`, `.rf64`, `.caf`), or nil.
    public init?(pathExtension ext: String) {
        switch ext.lowercased() {
        case "wav", "wave": self = .wav
        case "aif", "aiff", "aifc": self = .aiff
        case "au", "snd": self = .au
        case "flac": self = .flac
        case "raw", "pcm", "ulaw", "alaw": self = .raw
        case "w64": self = .w64
        case "rf64": self = .rf64
        case "caf": self = .caf
        default: return nil
        }
    }

    /// True when libsndfile can read the container's 8-bit and G.711 data as raw stored bytes
    /// (`sf_read_raw`); FLAC and the others decode, so 8-bit codes come from `sf_read_short`.
    var storesRawBytes: Bool {
        switch self {
        case .wav, .wavex, .rf64, .w64, .aiff, .au, .raw, .caf: return true
        case .flac: return false
        }
    }
}

extension SampleEncoding {
    /// libsndfile's subtype constant for the encoding.
    var sfSubtype: Int32 {
        switch self {
        case .ulaw: return Int32(SF_FORMAT_ULAW)
        case .alaw: return Int32(SF_FORMAT_ALAW)
        case .pcmU8: return Int32(SF_FORMAT_PCM_U8)
        case .pcmS8: return Int32(SF_FORMAT_PCM_S8)
        case .pcm16: return Int32(SF_FORMAT_PCM_16)
        case .pcm24: return Int32(SF_FORMAT_PCM_24)
        }
    }
}
