import CSndFile
import DiscreteAudio
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads discrete audio as exact bin indices (codes), streaming, through libsndfile: the reading
/// side of `CodeWriter`.
///
/// Codes never pass through normalised floats:
/// - 8-bit and G.711 data in containers whose raw bytes are verified (`storesRawBytes`: all but
///   FLAC, Sound Designer II and those without 8-bit codes): `sf_read_raw` returns the stored
///   bytes, mapped to bins by `BinMap` (this keeps μ-law's two zero codes apart, which every
///   decoded path merges);
/// - 8-bit PCM elsewhere (FLAC, Sound Designer II): `sf_read_short` returns v·256 exactly;
/// - 16-bit PCM: `sf_read_short` is the stored value; 24-bit PCM: `sf_read_int` is v·256.
/// Uncompressed 16-bit and byte-coded data in a regular file is then read by `DirectSamples`
/// (`pread`, no mapping), once libsndfile has located it and a check at the start, middle and end
/// has shown both paths give the same bins: one pass instead of a copy and a pass.
/// Memory is the caller's buffer plus one scratch chunk or read window: it does not grow with
/// file length.
/// Not thread-safe: use one reader per thread.
public final class CodeReader {
    public let path: String
    public let info: SoundFileInfo
    private let handle: OpaquePointer
    private let map: BinMap
    private let useRaw: Bool
    private var scratch: UnsafeMutableRawBufferPointer
    private let fd: Int32
    private var direct: DirectSamples?
    /// Frames delivered so far.
    public private(set) var framesRead: Int64 = 0

    /// True when samples are read directly with `pread` (`DirectSamples`), not through libsndfile.
    var readsDirectly: Bool { direct != nil }

    /// Opens `path`. `raw` must be given for headerless files and is ignored otherwise.
    public convenience init(path: String, raw: RawFormat? = nil) throws(SoundFileError) {
        try self.init(path: path, raw: raw, allowDirect: true)
    }

    /// The state of the open file the samples are read from (nil if `fstat` fails).
    public var fileState: FileState? { FileState(fd: fd) }

    /// The valid bits the header declares, read with `pread` from the descriptor the samples come
    /// from: for `.wav`/`.wavex`/`.rf64`/`.w64`, wValidBitsPerSample of a WAVE_FORMAT_EXTENSIBLE header (as
    /// declared, unless 0) or else a wBitsPerSample that is not a multiple of 8 (`WaveValidBits`,
    /// first 64 KiB only); for `.aiff` (AIFF and AIFC), a COMM sampleSize below the container's
    /// bits (`AiffSampleSize`). nil for other containers, when nothing narrower is declared, and
    /// for a declaration outside 1...bits of the encoding (0 "unknown", or wider than the container).
    public var declaredValidBits: Int? {
        let declared: Int?
        switch info.container {
        case .wav, .wavex, .rf64: declared = WaveValidBits.read(fd: fd)
        case .w64: declared = WaveValidBits.read(fd: fd, w64: true)
        case .aiff: declared = AiffSampleSize.read(fd: fd).flatMap { $0 < info.encoding.bits ? $0 : nil }
        default: declared = nil
        }
        return declared.flatMap { (1...info.encoding.bits).contains($0) ? $0 : nil }
    }

    /// Reads bytes of the open file from `offset` into `buffer` with `pread` (libsndfile's
    /// position is left alone), until it is full or the file ends; returns the bytes read. Lets
    /// the caller hash the very file the samples come from. Safe to call from another thread
    /// while samples are read: it uses only the descriptor.
    public func readFileBytes(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(SoundFileError) -> Int {
        let (got, error) = DescriptorIO.read(fd, into: buffer, at: offset)
        if error != 0 { throw .readFailed(path: path, reason: String(cString: strerror(error))) }
        return got
    }

    /// `allowDirect: false` keeps every read on libsndfile (tests compare the two paths).
    init(path: String, raw: RawFormat?, allowDirect: Bool) throws(SoundFileError) {
        self.path = path
        let opened = try LibSndfile.openForReading(path: path, raw: raw)
        let handle = opened.handle, fd = opened.fd, sfinfo = opened.info, st = opened.status
        // where libsndfile left the descriptor: the first sample of uncompressed data
        let dataOffset = Int64(lseek(fd, 0, SEEK_CUR))
        let major = sfinfo.format & Int32(SF_FORMAT_TYPEMASK)
        let sub = sfinfo.format & Int32(SF_FORMAT_SUBMASK)
        do {
            let encoding = try CodeReader.encoding(subtype: sub, path: path)
            let container = try CodeReader.container(major: major, encoding: encoding, path: path)
            if raw == nil && (path.lowercased().hasSuffix(".raw") || container == .raw) {
                throw SoundFileError.headerlessWithoutFormat(path: path)
            }
            guard sfinfo.channels > 0 else {
                throw SoundFileError.inconsistentHeader(path: path, detail: "0 channels")
            }
            guard sfinfo.samplerate > 0 else {
                throw SoundFileError.inconsistentHeader(path: path, detail: "sample rate \(sfinfo.samplerate)")
            }
            try HeaderCheck.verify(fd: fd, path: path, container: container)
            if let raw, (st.st_mode & S_IFMT) == S_IFREG {
                // libsndfile drops a trailing partial frame of headerless data without a word
                let frameBytes = Int64(raw.channels * raw.encoding.bits / 8)
                if Int64(st.st_size) % frameBytes != 0 {
                    throw SoundFileError.partialFrame(path: path, bytes: Int64(st.st_size), frameBytes: frameBytes)
                }
            }
            self.info = SoundFileInfo(container: container, encoding: encoding,
                                      sampleRate: Int(sfinfo.samplerate), channels: Int(sfinfo.channels),
                                      frames: sfinfo.frames)
            self.map = BinMap(encoding)
            self.useRaw = encoding.bits == 8 && container.storesRawBytes
        } catch let e as SoundFileError {
            opened.close()
            throw e
        } catch {
            opened.close()
            throw .readFailed(path: path, reason: "\(error)")
        }
        self.handle = handle
        self.fd = fd
        self.scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        if allowDirect && (st.st_mode & S_IFMT) == S_IFREG && info.container.dataIsContiguous && dataOffset >= 0
            && (info.encoding == .pcm16 || useRaw) {
            let width = info.encoding == .pcm16 ? 2 : 1
            let (samples, o1) = info.frames.multipliedReportingOverflow(by: Int64(info.channels))
            let (bytes, o2) = samples.multipliedReportingOverflow(by: Int64(width))
            if !o1, !o2, dataOffset <= Int64(st.st_size) - bytes {
                let swap = width == 2 && sf_command(handle, Int32(SFC_RAW_DATA_NEEDS_ENDSWAP), nil, 0) != 0
                let d = DirectSamples(fd: fd, width: width, swap: swap, dataOffset: dataOffset, samples: samples,
                                      byteToBin: map.byteToBin)
                if agreesWithLibsndfile(d) { direct = d }
            }
        }
    }

    /// What `path` holds, with every check of opening it for reading (container, encoding, header
    /// against file size), without reading samples.
    public static func probe(path: String, raw: RawFormat? = nil) throws(SoundFileError) -> SoundFileInfo {
        try CodeReader(path: path, raw: raw, allowDirect: false).info
    }

    deinit {
        direct = nil
        sf_close(handle)
        Glibc.close(fd)
        scratch.deallocate()
    }

    /// True when `d` gives the same bins as libsndfile's own read for up to 64 frames at the
    /// start, middle and end of the data; leaves libsndfile at frame 0.
    private func agreesWithLibsndfile(_ d: DirectSamples) -> Bool {
        let frames = info.frames, ch = info.channels
        guard frames > 0 else { return false }
        defer { sf_seek(handle, 0, SEEK_SET) }
        let spots = Set([0, frames / 2, max(0, frames - 64)]).sorted()
        var viaLibrary = [UInt32](repeating: 0, count: 64 * ch)
        var viaDirect = [UInt32](repeating: 0, count: 64 * ch)
        for spot in spots {
            let n = Int(min(64, frames - spot)) * ch
            guard sf_seek(handle, sf_count_t(spot), SEEK_SET) == spot,
                  let got = try? viaLibrary.withUnsafeMutableBufferPointer({ (p) throws(SoundFileError) -> Int in
                      try readThroughLibrary(into: UnsafeMutableBufferPointer(rebasing: p[0..<n]), count: n)
                  }), got == n else { return false }
            let decoded = viaDirect.withUnsafeMutableBufferPointer { d.decode(first: spot * Int64(ch), into: UnsafeMutableBufferPointer(rebasing: $0[0..<n])) }
            guard decoded == n, viaLibrary[0..<n] == viaDirect[0..<n] else { return false }
        }
        return true
    }

    static func encoding(subtype sub: Int32, path: String) throws(SoundFileError) -> SampleEncoding {
        if let e = SampleEncoding.allCases.first(where: { $0.sfSubtype == sub }) { return e }
        switch Int(sub) {
        case Int(SF_FORMAT_FLOAT): throw .alreadyContinuous(path: path, subtype: "32-bit float")
        case Int(SF_FORMAT_DOUBLE): throw .alreadyContinuous(path: path, subtype: "64-bit float")
        default: throw .unsupportedEncoding(path: path, subtype: subtypeName(sub))
        }
    }

    /// The container of libsndfile's major format `major`, or an error that names it.
    static func container(major: Int32, encoding: SampleEncoding, path: String) throws(SoundFileError) -> AudioContainer {
        guard let c = AudioContainer(sfMajor: major) else {
            if major == Int32(SF_FORMAT_SDS) {
                throw .unsupportedContainer(path: path, detail: "MIDI Sample Dump Standard (libsndfile does not read its codes back exactly)")
            }
            throw .unsupportedContainer(path: path, detail: AudioContainer.libraryName(major: major))
        }
        if !encoding.isLinear && !c.storesRawBytes {
            throw .unsupportedContainer(path: path, detail: "\(encoding.displayName) in \(c.displayName) has no exact read path (its stored bytes are not verified)")
        }
        return c
    }

    static func subtypeName(_ sub: Int32) -> String {
        switch Int(sub) {
        case Int(SF_FORMAT_PCM_32): return "32-bit PCM"
        case Int(SF_FORMAT_IMA_ADPCM): return "IMA ADPCM"
        case Int(SF_FORMAT_MS_ADPCM): return "MS ADPCM"
        case Int(SF_FORMAT_GSM610): return "GSM 6.10"
        case Int(SF_FORMAT_VOX_ADPCM): return "VOX ADPCM"
        case Int(SF_FORMAT_G721_32), Int(SF_FORMAT_G723_24), Int(SF_FORMAT_G723_40): return "G.72x ADPCM"
        case Int(SF_FORMAT_VORBIS): return "Ogg Vorbis (lossy)"
        case Int(SF_FORMAT_OPUS): return "Opus (lossy)"
        case Int(SF_FORMAT_MPEG_LAYER_I), Int(SF_FORMAT_MPEG_LAYER_II), Int(SF_FORMAT_MPEG_LAYER_III): return "MPEG audio (lossy)"
        case Int(SF_FORMAT_DWVW_12), Int(SF_FORMAT_DWVW_16), Int(SF_FORMAT_DWVW_24), Int(SF_FORMAT_DWVW_N): return "DWVW"
        case Int(SF_FORMAT_DPCM_8), Int(SF_FORMAT_DPCM_16): return "DPCM"
        case Int(SF_FORMAT_ALAC_16), Int(SF_FORMAT_ALAC_20), Int(SF_FORMAT_ALAC_24), Int(SF_FORMAT_ALAC_32): return "ALAC"
        default:
            return LibSndfile.formatName(sub) ?? "an encoding this libsndfile has no name for"
        }
    }

    private func ensureScratch(_ bytes: Int) {
        if scratch.count < bytes {
            scratch.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        }
    }

    /// Goes back to the first frame, so the next `read` delivers the stream again from frame 0
    /// (a scan of the codes before converting them: `SourceScan`). Direct reads are positioned
    /// by frame count alone; libsndfile's reads seek (fails for a stream that cannot seek).
    public func rewind() throws(SoundFileError) {
        if direct == nil && sf_seek(handle, 0, Int32(SEEK_SET)) != 0 {
            throw .readFailed(path: path, reason: "cannot seek back to the first frame")
        }
        framesRead = 0
    }

    /// Reads up to `bins.count / channels` frames into `bins` (interleaved bin indices).
    /// Returns the frames read; 0 at the end. Throws `.truncated` when the file ends before the
    /// declared frame count, and `.readFailed` on an I/O error.
    public func read(into bins: UnsafeMutableBufferPointer<UInt32>) throws(SoundFileError) -> Int {
        let ch = info.channels
        let wantFrames = Int(min(Int64(bins.count / ch), info.frames - framesRead))
        guard wantFrames > 0 else { return 0 }
        let n = wantFrames * ch
        let got: Int
        if let direct {
            got = direct.decode(first: framesRead * Int64(ch), into: UnsafeMutableBufferPointer(rebasing: bins[0..<n]))
            if got < n && direct.lastError != 0 {
                throw .readFailed(path: path, reason: String(cString: strerror(direct.lastError)))
            }
        } else {
            got = try readThroughLibrary(into: bins, count: n)
        }
        let frames = got / ch
        framesRead += Int64(frames)
        if frames < wantFrames {
            let err = sf_error(handle)
            if err != 0 { throw .readFailed(path: path, reason: String(cString: sf_strerror(handle))) }
            throw .truncated(path: path, expectedFrames: info.frames, gotFrames: framesRead)
        }
        return frames
    }

    /// Reads `count` samples at libsndfile's position into `bins`; returns the samples read.
    private func readThroughLibrary(into bins: UnsafeMutableBufferPointer<UInt32>, count n: Int) throws(SoundFileError) -> Int {
        var got = 0
        if useRaw {
            ensureScratch(n)
            let bytes = sf_read_raw(handle, scratch.baseAddress, sf_count_t(n))
            got = Int(bytes)
            let src = scratch.bindMemory(to: UInt8.self)
            map.byteToBin.withUnsafeBufferPointer { table in
                for i in 0..<got { bins[i] = UInt32(table[Int(src[i])]) }
            }
        } else {
            switch info.encoding {
            case .pcm16, .pcmS8, .pcmU8, .ulaw, .alaw:
                ensureScratch(n * 2)
                let s = scratch.bindMemory(to: Int16.self)
                got = Int(sf_read_short(handle, s.baseAddress, sf_count_t(n)))
                switch info.encoding {
                case .pcm16:
                    for i in 0..<got { bins[i] = UInt32(UInt16(bitPattern: s[i]) ^ 0x8000) }
                case .pcmS8, .pcmU8:
                    for i in 0..<got { bins[i] = UInt32((Int(s[i]) >> 8) + 128) }
                default:
                    throw .readFailed(path: path, reason: "G.711 in \(info.container.displayName) has no exact read path")
                }
            case .pcm24:
                ensureScratch(n * 4)
                let s = scratch.bindMemory(to: Int32.self)
                got = Int(sf_read_int(handle, s.baseAddress, sf_count_t(n)))
                for i in 0..<got { bins[i] = UInt32(bitPattern: (s[i] >> 8) &+ (1 << 23)) }
            }
        }
        return got
    }

    /// libsndfile's own 16-bit decoding of a file (`sf_read_short`): G.711 expanded, 8-bit PCM
    /// shifted up by 8 bits; opened as `init` opens (`LibSndfile.openForReading`), so a missing
    /// or non-audio file gives the same error. Used to verify the bin tables against libsndfile; never to dequantize
    /// (it merges μ-law's two zero codes).
    public static func decodedShorts(path: String, raw: RawFormat? = nil) throws(SoundFileError) -> [Int16] {
        let opened = try LibSndfile.openForReading(path: path, raw: raw)
        defer { opened.close() }
        let h = opened.handle, sfinfo = opened.info
        // the declared frames × channels samples, read in chunks as readAll does: the declared
        // length bounds the reads but is not trusted for the allocation
        let ch = Int64(max(1, sfinfo.channels))
        let (want, overflow) = max(0, sfinfo.frames).multipliedReportingOverflow(by: ch)
        guard !overflow else { throw .inconsistentHeader(path: path, detail: "\(sfinfo.frames) frames x \(ch) channels") }
        var out: [Int16] = []
        var chunk = [Int16](repeating: 0, count: 65536 * Int(ch))
        while Int64(out.count) < want {
            let ask = min(Int64(chunk.count), want - Int64(out.count))
            let n = chunk.withUnsafeMutableBufferPointer { sf_read_short(h, $0.baseAddress, sf_count_t(ask)) }
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        guard Int64(out.count) == want else {
            throw .truncated(path: path, expectedFrames: sfinfo.frames, gotFrames: Int64(out.count) / ch)
        }
        return out
    }

    /// Samples `readAll` reserves before reading (16 Mi, 64 MiB of bins); beyond that the array
    /// grows with what is actually read.
    static let readAllReserve = 1 << 24

    /// Reads the whole file (from the current position) as one `DiscreteSignal`. Memory follows
    /// what the file holds, not what its header declares: at most `readAllReserve` samples are
    /// reserved up front, so a header that declares more frames than the file has (a FLAC whose
    /// STREAMINFO claims 2^36 samples) ends in `.truncated` after the real audio, never in an
    /// allocation of the declared size.
    public func readAll(chunkFrames: Int = 65536) throws(SoundFileError) -> DiscreteSignal {
        let ch = info.channels
        let declared = max(0, info.frames - framesRead)
        var all: [UInt32] = []
        all.reserveCapacity(Int(min(declared, Int64(Self.readAllReserve / ch))) * ch)
        var chunk = [UInt32](repeating: 0, count: Int(min(Int64(max(1, chunkFrames)), max(1, declared))) * ch)
        while true {
            let frames = try chunk.withUnsafeMutableBufferPointer { (p) throws(SoundFileError) -> Int in try read(into: p) }
            if frames == 0 { break }
            all.append(contentsOf: chunk[0..<(frames * ch)])
        }
        return DiscreteSignal(encoding: info.encoding, sampleRate: info.sampleRate, channels: ch, bins: all)
    }
}
