/// A discrete sample encoding: how a stored code maps to an amplitude-ordered bin index.
///
/// Every encoding has `binCount` (K) bins. The bin index rises with the amplitude the code stands
/// for, so bin 0 is the most negative level and bin K − 1 the most positive. Dequantization works
/// on bin indices only; stored codes appear only at the file boundary.
///
/// | encoding | K | bin index from the stored code |
/// |---|---|---|
/// | `ulaw` (G.711 byte b) | 256 | b < 128 ? b : 383 − b |
/// | `alaw` (G.711 byte b) | 256 | a = b ^ 0x55; a & 0x80 ? 128 + (a & 0x7F) : 127 − (a & 0x7F) |
/// | `pcmU8` (v in 0...255) | 256 | v |
/// | `pcmS8` (v in −128...127) | 256 | v + 128 |
/// | `pcm16` (v in −32768...32767) | 65536 | v + 32768 |
/// | `pcm24` (v in −2^23...2^23 − 1) | 2^24 | v + 2^23 |
public enum SampleEncoding: String, Sendable, CaseIterable, Codable {
    case ulaw
    case alaw
    case pcmU8 = "pcm_u8"
    case pcmS8 = "pcm_s8"
    case pcm16 = "pcm_16"
    case pcm24 = "pcm_24"

    /// Bits per code.
    public var bits: Int {
        switch self {
        case .ulaw, .alaw, .pcmU8, .pcmS8: return 8
        case .pcm16: return 16
        case .pcm24: return 24
        }
    }

    /// Number of bins K = 2^bits.
    public var binCount: Int { 1 << bits }

    /// True for linear PCM, false for companded G.711.
    public var isLinear: Bool { self != .ulaw && self != .alaw }

    /// The bin index of the code that stands for amplitude zero in linear PCM (K/2).
    /// G.711 has two codes next to zero: μ-law's "−0" and "+0" (bins 127 and 128, both decode to 0),
    /// A-law's ±8 (bins 127 and 128; A-law has no zero level). `zeroBins` lists them.
    public var zeroBins: [Int] {
        switch self {
        case .ulaw, .alaw: return [127, 128]
        default: return [binCount / 2]
        }
    }

    /// A short human name, e.g. "G.711 mu-law", "PCM signed 16-bit".
    public var displayName: String {
        switch self {
        case .ulaw: return "G.711 mu-law"
        case .alaw: return "G.711 A-law"
        case .pcmU8: return "PCM unsigned 8-bit"
        case .pcmS8: return "PCM signed 8-bit"
        case .pcm16: return "PCM signed 16-bit"
        case .pcm24: return "PCM signed 24-bit"
        }
    }

    /// Parses the names used on the command line and in sidecars: the raw values above plus the
    /// short forms `u8`, `s8`, `s16`, `s24`, `mulaw`, `mu-law`, `a-law`.
    public init?(name: String) {
        switch name.lowercased() {
        case "ulaw", "mulaw", "mu-law", "u-law": self = .ulaw
        case "alaw", "a-law": self = .alaw
        case "pcm_u8", "u8": self = .pcmU8
        case "pcm_s8", "s8": self = .pcmS8
        case "pcm_16", "s16", "pcm16": self = .pcm16
        case "pcm_24", "s24", "pcm24": self = .pcm24
        default: return nil
        }
    }
}
