import CSndFile
import DiscreteAudio

/// The file containers audiodq reads and writes discrete audio in: every major format of
/// libsndfile 1.2 that can hold codes audiodq reads exactly (G.711, 8/16/24-bit PCM).
///
/// The raw values are stable: sidecars record them (`source.container`). `raw` is headerless: its
/// encoding, rate and channel count come from a `RawFormat`.
/// Left out: libsndfile's MIDI Sample Dump (SDS), whose codes do not survive a write and read
/// through libsndfile at any bit depth; Ogg, MPEG and FastTracker XI hold only lossy or
/// differential codecs. `ContainerMatrixTests` writes every code of every encoding into every
/// container libsndfile can write and checks the read (and the raw-byte read) against them.
public enum AudioContainer: String, Sendable, CaseIterable, Codable {
    case wav, wavex, rf64, w64, aiff, au, flac, raw, caf
    case nist, ircam, voc, svx = "8svx", paf, mat4, mat5, htk, avr, pvf, sd2, mpc2k, wve

    /// libsndfile's major format constant.
    var sfMajor: Int32 {
        let major: Int
        switch self {
        case .wav: major = SF_FORMAT_WAV
        case .wavex: major = SF_FORMAT_WAVEX
        case .rf64: major = SF_FORMAT_RF64
        case .w64: major = SF_FORMAT_W64
        case .aiff: major = SF_FORMAT_AIFF
        case .au: major = SF_FORMAT_AU
        case .flac: major = SF_FORMAT_FLAC
        case .raw: major = SF_FORMAT_RAW
        case .caf: major = SF_FORMAT_CAF
        case .nist: major = SF_FORMAT_NIST
        case .ircam: major = SF_FORMAT_IRCAM
        case .voc: major = SF_FORMAT_VOC
        case .svx: major = SF_FORMAT_SVX
        case .paf: major = SF_FORMAT_PAF
        case .mat4: major = SF_FORMAT_MAT4
        case .mat5: major = SF_FORMAT_MAT5
        case .htk: major = SF_FORMAT_HTK
        case .avr: major = SF_FORMAT_AVR
        case .pvf: major = SF_FORMAT_PVF
        case .sd2: major = SF_FORMAT_SD2
        case .mpc2k: major = SF_FORMAT_MPC2K
        case .wve: major = SF_FORMAT_WVE
        }
        return Int32(major)
    }

    /// libsndfile's format for bins of `encoding` in this container: `sfMajor | encoding.sfSubtype`,
    /// plus, for headerless RAW of multi-byte samples only, the byte order (`SF_ENDIAN_BIG` when
    /// `bigEndian`, else `SF_ENDIAN_LITTLE`). Every other case keeps `SF_ENDIAN_FILE` (0): the
    /// container's own byte order, and for 8-bit samples byte order means nothing (the same rule
    /// as `RawFormat.spec`). The one such mapping: reading (`RawFormat.sfInfo`), writing
    /// (`CodeWriter`) and `accepts` all use it.
    func sfFormat(_ encoding: SampleEncoding, bigEndian: Bool = false) -> Int32 {
        var format = sfMajor | encoding.sfSubtype
        if self == .raw && encoding.bits > 8 { format |= bigEndian ? Int32(SF_ENDIAN_BIG) : Int32(SF_ENDIAN_LITTLE) }
        return format
    }

    init?(sfMajor: Int32) {
        guard let c = AudioContainer.allCases.first(where: { $0.sfMajor == sfMajor }) else { return nil }
        self = c
    }

    /// A human name for messages, e.g. "NIST SPHERE", "Creative VOC".
    public var displayName: String {
        switch self {
        case .wav: return "WAV"
        case .wavex: return "WAV (WAVE_FORMAT_EXTENSIBLE)"
        case .rf64: return "RF64"
        case .w64: return "Sony Wave64"
        case .aiff: return "AIFF"
        case .au: return "Sun/NeXT AU"
        case .flac: return "FLAC"
        case .raw: return "headerless RAW"
        case .caf: return "Apple CAF"
        case .nist: return "NIST SPHERE"
        case .ircam: return "IRCAM/Berkeley/CARL SF"
        case .voc: return "Creative VOC"
        case .svx: return "Amiga IFF/8SVX"
        case .paf: return "Ensoniq PARIS"
        case .mat4: return "MATLAB 4 / GNU Octave 2.0"
        case .mat5: return "MATLAB 5 / GNU Octave 2.1"
        case .htk: return "HTK"
        case .avr: return "Audio Visual Research AVR"
        case .pvf: return "Portable Voice Format"
        case .sd2: return "Sound Designer II"
        case .mpc2k: return "Akai MPC 2000"
        case .wve: return "Psion WVE"
        }
    }

    /// The container a file name's extension names, or nil. `.mat` is MATLAB 5 (it holds 8-bit,
    /// MATLAB 4 does not); MATLAB 4 files are still read, by content.
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
        case "sph", "nist": self = .nist
        case "sf", "ircam": self = .ircam
        case "voc": self = .voc
        case "8svx", "svx", "iff": self = .svx
        case "paf": self = .paf
        case "mat": self = .mat5
        case "htk": self = .htk
        case "avr": self = .avr
        case "pvf": self = .pvf
        case "sd2": self = .sd2
        case "wve": self = .wve
        default: return nil
        }
    }

    /// True when `ext` names a container with a header: one `init(pathExtension:)` knows, other
    /// than headerless RAW's (so the two can never disagree).
    public static func namesHeaderContainer(_ ext: String) -> Bool {
        AudioContainer(pathExtension: ext).map { $0 != .raw } ?? false
    }

    /// True when `sf_read_raw` returns the container's 8-bit and G.711 data as the stored bytes in
    /// file order (verified for every 8-bit encoding libsndfile writes in it). FLAC decodes;
    /// Sound Designer II cannot be written (its resource fork) on Linux, so it is unverified: its
    /// 8-bit PCM is read with `sf_read_short`, exact for PCM, and its G.711 is refused.
    var storesRawBytes: Bool {
        switch self {
        case .flac, .sd2, .mat4, .htk, .mpc2k: return false
        default: return true
        }
    }

    /// True when the data is one contiguous block after the header, so `DirectSamples` may read
    /// it directly with `pread` (still only after agreeing with libsndfile at three places).
    var dataIsContiguous: Bool {
        switch self {
        case .wav, .wavex, .rf64, .w64, .aiff, .au, .raw, .caf, .nist, .ircam: return true
        default: return false
        }
    }

    /// True when libsndfile accepts the container/encoding pair for writing (`sf_format_check`).
    func accepts(_ encoding: SampleEncoding) -> Bool {
        var info = SF_INFO()
        info.samplerate = 8000
        info.channels = 1
        info.format = sfFormat(encoding)
        return sf_format_check(&info) != 0
    }

    /// Pairs libsndfile accepts but does not write exactly (found by `ContainerMatrixTests`):
    /// PARIS 24-bit pads to blocks of 10 frames, VOC G.711 mono gains a frame, Sound Designer II
    /// written on Linux cannot be opened again.
    func writesExactly(_ encoding: SampleEncoding) -> Bool {
        switch (self, encoding) {
        case (.paf, .pcm24), (.voc, .ulaw), (.voc, .alaw), (.sd2, _): return false
        default: return accepts(encoding)
        }
    }

    /// The encoding to store bins of `encoding` in: itself when the container writes it exactly,
    /// else the container's own 8-bit PCM flavour for 8-bit PCM (WAV's 8-bit is unsigned, AU's
    /// signed: the same 256 amplitude-ordered bins), else nil.
    public func storedEncoding(for encoding: SampleEncoding) -> SampleEncoding? {
        if writesExactly(encoding) { return encoding }
        let other: SampleEncoding
        switch encoding {
        case .pcmU8: other = .pcmS8
        case .pcmS8: other = .pcmU8
        default: return nil
        }
        return writesExactly(other) ? other : nil
    }

    /// libsndfile's own name for a major format it knows but audiodq does not list (none in
    /// libsndfile 1.2 besides the lossy and differential ones), for messages.
    static func libraryName(major: Int32) -> String {
        LibSndfile.formatName(major) ?? "a format this libsndfile has no name for"
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
