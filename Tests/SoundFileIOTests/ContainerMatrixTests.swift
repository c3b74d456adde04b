import Foundation
import Testing
import CSndFile
import DiscreteAudio
@testable import SoundFileIO

/// Every container libsndfile writes × every encoding audiodq reads: files are written with
/// libsndfile's own integer calls (never audiodq's writer), then read back by `CodeReader`
/// through libsndfile and through the direct (`pread`) read. This is what makes a container "read exactly".
@Suite struct ContainerMatrixTests {
    /// (container, encoding) pairs libsndfile accepts for writing. Sound Designer II is left out:
    /// written on Linux (no resource fork) it cannot be opened again.
    static let pairs: [(AudioContainer, SampleEncoding)] = AudioContainer.allCases
        .filter { $0 != .raw && $0 != .sd2 }
        .flatMap { c in SampleEncoding.allCases.filter { c.accepts($0) }.map { (c, $0) } }

    /// Bins holding every code of 8- and 16-bit encodings (each 8-bit code twice), and 40,960
    /// spread codes with both extremes for 24-bit (a multiple of PARIS's 10-frame blocks), in a
    /// scrambled order so that channels and neighbours differ.
    static func bins(_ e: SampleEncoding) -> [UInt32] {
        switch e.bits {
        case 8: return (0..<512).map { UInt32(($0 * 37 + 11) % 256) }
        case 16: return (0..<65536).map { UInt32(($0 * 40503 + 7) % 65536) }
        default:
            var b = (0..<40960).map { UInt32(truncatingIfNeeded: UInt64($0) &* 2_654_435_761 % (1 << 24)) }
            b[1] = 0
            b[2] = (1 << 24) - 1
            return b
        }
    }

    static func channels(_ c: AudioContainer, _ e: SampleEncoding) -> Int {
        var info = SF_INFO()
        info.samplerate = 8000
        info.channels = 2
        info.format = c.sfMajor | e.sfSubtype
        return sf_format_check(&info) != 0 ? 2 : 1
    }

    /// Writes `bins` as codes with `sf_write_raw` (G.711: the stored bytes) or
    /// `sf_write_short`/`sf_write_int` (PCM: the signed value shifted to 16/32 bits), in byte
    /// order `endian` (`SF_ENDIAN_FILE`: the container's default).
    static func writeWithLibsndfile(_ path: String, _ c: AudioContainer, _ e: SampleEncoding, channels: Int, endian: Int32,
                                    bins: [UInt32]) throws {
        var info = SF_INFO()
        info.samplerate = 8000
        info.channels = Int32(channels)
        info.format = c.sfMajor | e.sfSubtype | endian
        guard let h = sndfileOpenLock.withLock({ _ in sf_open(path, Int32(SFM_WRITE), &info) }) else {
            throw SoundFileError.cannotCreate(path: path, reason: String(cString: sf_strerror(nil)))
        }
        defer { sf_close(h) }
        let map = BinMap(e)
        let n = bins.count
        let written: Int64
        switch e {
        case .ulaw, .alaw:
            var bytes = bins.map { map.binToByte[Int($0)] }
            written = sf_write_raw(h, &bytes, sf_count_t(n))
        case .pcmU8, .pcmS8:
            var s = bins.map { Int16(Int($0) - 128) << 8 }
            written = sf_write_short(h, &s, sf_count_t(n))
        case .pcm16:
            var s = bins.map { Int16(Int($0) - 32768) }
            written = sf_write_short(h, &s, sf_count_t(n))
        case .pcm24:
            var s = bins.map { Int32(Int($0) - (1 << 23)) << 8 }
            written = sf_write_int(h, &s, sf_count_t(n))
        }
        #expect(written == Int64(n), "libsndfile wrote \(written) of \(n) samples in \(c) \(e)")
    }

    @Test(arguments: pairs)
    func everyCodeReadsBackExactly(_ c: AudioContainer, _ e: SampleEncoding) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-matrix-\(getpid())-\(c.rawValue)-\(e.rawValue)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bins = Self.bins(e)
        let ch = Self.channels(c, e)
        // multi-byte codes also in the other byte order, where the container has one (RIFX,
        // little-endian AIFC, …): the direct read must swap exactly when libsndfile does
        let orders = [Int32(SF_ENDIAN_FILE), Int32(SF_ENDIAN_LITTLE), Int32(SF_ENDIAN_BIG)].filter { endian in
            var info = SF_INFO()
            info.samplerate = 8000
            info.channels = Int32(ch)
            info.format = c.sfMajor | e.sfSubtype | endian
            return endian == Int32(SF_ENDIAN_FILE) || (e.bits > 8 && sf_format_check(&info) != 0)
        }
        for endian in orders {
            let path = dir.appendingPathComponent("codes-\(endian)").path
            try Self.writeWithLibsndfile(path, c, e, channels: ch, endian: endian, bins: bins)
            for direct in [false, true] {
                let r = try CodeReader(path: path, raw: nil, allowDirect: direct)
                #expect(r.info.container == c)
                #expect(r.info.encoding == e)
                #expect(r.info.channels == ch)
                #expect(r.info.frames == Int64(bins.count / ch))
                // the direct read is taken wherever it may be (and then agreed with libsndfile)
                let mappable = c.dataIsContiguous && (e == .pcm16 || (e.bits == 8 && c.storesRawBytes))
                #expect(r.readsDirectly == (direct && mappable), "\(c) \(e) endian \(endian)")
                let back = try r.readAll(chunkFrames: 1000)
                #expect(back.bins == bins, "\(c.displayName) \(e.displayName) endian \(endian) direct: \(direct)")
            }
            // libsndfile decodes the bytes audiodq takes as codes to the levels the codes stand for
            // (for G.711 this is the check that the raw bytes are the stored codes, not some other
            // form of them)
            if e.bits <= 16 {
                let map = BinMap(e)
                let decoded = try CodeReader.decodedShorts(path: path)
                #expect(decoded == bins.map { Int16(map.amplitude(bin: Int($0)) * 32768) })
            }
        }
    }

    /// `CodeWriter` writes every pair it accepts exactly, mono and multichannel, at odd and even
    /// lengths (libsndfile alone adds a frame to odd-length 8-bit mono AIFF).
    @Test(arguments: pairs.filter { $0.0.writesExactly($0.1) })
    func codeWriterWritesExactlyOrRefuses(_ c: AudioContainer, _ e: SampleEncoding) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-cw-\(getpid())-\(c.rawValue)-\(e.rawValue)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let all = Self.bins(e)
        for ch in Set([1, Self.channels(c, e)]).sorted() {
            for frames in [all.count / ch, all.count / ch - 1] {
                let bins = Array(all[0..<(frames * ch)])
                let path = dir.appendingPathComponent("w\(ch)-\(frames)").path
                let w = try CodeWriter(path: path, container: c, encoding: e, sampleRate: 8000, channels: ch)
                try bins.withUnsafeBufferPointer { try w.write(bins: $0) }
                try w.close()   // odd-length 8-bit AIFF: libsndfile's header is corrected
                let back = try CodeReader(path: path).readAll()
                #expect(back.channels == ch)
                #expect(back.bins == bins, "\(c.displayName) \(e.displayName) \(ch) ch \(frames) frames")
            }
        }
    }

    /// The containers of other speech corpora are named, never shown as a hex code.
    @Test func refusalsNameTheFormat() throws {
        #expect(throws: Never.self) { try CodeReader.container(major: Int32(SF_FORMAT_NIST), encoding: .pcm16, path: "x") }
        do {
            _ = try CodeReader.container(major: Int32(SF_FORMAT_SDS), encoding: .pcm16, path: "x.sds")
            Issue.record("SDS accepted")
        } catch {
            #expect(error.description.contains("MIDI Sample Dump"))
            #expect(!error.description.contains("0x"))
        }
        do {
            _ = try CodeReader.container(major: Int32(SF_FORMAT_XI), encoding: .pcm16, path: "x.xi")
            Issue.record("XI accepted")
        } catch {
            #expect(error.description.contains("XI"), "\(error)")
            #expect(!error.description.contains("0x"))
        }
        #expect(!CodeReader.subtypeName(Int32(SF_FORMAT_NMS_ADPCM_16)).contains("0x"))
    }
}
