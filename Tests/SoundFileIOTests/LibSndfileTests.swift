import CSndFile
import Foundation
import Testing
import DiscreteAudio
@testable import SoundFileIO

/// The shared pieces of SoundFileIO: the one open path for reading (`LibSndfile`), the one RAW
/// encoding/byte-order mapping (`AudioContainer.sfFormat`, `RawFormat.sfInfo`), the one
/// format-name lookup and the one descriptor transfer loop (`DescriptorIO`).
@Suite struct LibSndfileTests {
    /// The path `name` in a new folder of its own under the temporary directory.
    static func scratch(_ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audiodq-libsndfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    /// Every way SoundFileIO opens a file to read it: the reader, its probe, libsndfile's own
    /// decoding (`decodedShorts`, which used to say only "sf_open failed" and call a missing file
    /// unopenable), float files (which called a missing file unopenable) and the helper itself.
    static let openers: [(String, @Sendable (String) throws(SoundFileError) -> Void)] = [
        ("reader", { (p) throws(SoundFileError) in _ = try CodeReader(path: p) }),
        ("probe", { (p) throws(SoundFileError) in _ = try CodeReader.probe(path: p) }),
        ("decodedShorts", { (p) throws(SoundFileError) in _ = try CodeReader.decodedShorts(path: p) }),
        ("floatReader", { (p) throws(SoundFileError) in _ = try FloatSoundFile(reading: p) }),
        ("openForReading", { (p) throws(SoundFileError) in try LibSndfile.openForReading(path: p, raw: nil).close() }),
    ]

    static func error(_ open: (String) throws(SoundFileError) -> Void, _ p: String) -> SoundFileError? {
        do { try open(p); return nil } catch { return error }
    }

    @Test func aMissingFileIsNotFoundNamingIt() throws {
        let p = try Self.scratch("missing.wav")
        for (name, open) in Self.openers {
            let e = Self.error(open, p)
            #expect(e == .notFound(path: p), "\(name)")
            #expect(e?.description == "\(p): no such file", "\(name)")
        }
    }

    @Test func aNonAudioFileCannotOpenWithLibsndfilesReason() throws {
        let p = try Self.scratch("notes.wav")
        try Data("these are words, not audio samples\n".utf8).write(to: URL(fileURLWithPath: p))
        for (name, open) in Self.openers {
            guard case .cannotOpen(let named, let reason)? = Self.error(open, p) else {
                Issue.record("\(name): \(String(describing: Self.error(open, p)))")
                continue
            }
            #expect(named == p, "\(name)")
            #expect(!reason.isEmpty && reason != "sf_open failed", "\(name): \(reason)")
            #expect(Self.error(open, p)!.description.hasPrefix("\(p): cannot open as audio: "), "\(name)")
        }
    }

    @Test func formatNamesComeFromOneLookup() {
        #expect(LibSndfile.formatName(Int32(SF_FORMAT_WAV))?.hasPrefix("WAV") == true)
        #expect(LibSndfile.formatName(Int32(SF_FORMAT_PCM_16)) == "Signed 16 bit PCM")
        #expect(LibSndfile.formatName(0x7FFF_0000) == nil)
        #expect(AudioContainer.libraryName(major: 0x7FFF_0000) == "a format this libsndfile has no name for")
        #expect(CodeReader.subtypeName(Int32(SF_FORMAT_PCM_16)) == "Signed 16 bit PCM")
    }

    /// Bins of `encoding` that cover the extremes, zero and (for 8 and 16 bits) every code.
    static func bins(_ encoding: SampleEncoding) -> [UInt32] {
        let k = encoding.binCount
        if k <= 65536 { return (0..<UInt32(k)).map { $0 } }
        return Array(stride(from: 0, to: k, by: 4099).map(UInt32.init)) + [UInt32(k / 2), UInt32(k - 1)]
    }

    /// The stored bytes of bin `b` of a multi-byte encoding in little-endian order.
    static func littleEndianBytes(_ b: UInt32, _ encoding: SampleEncoding) -> [UInt8] {
        let v = b ^ (1 << UInt32(encoding.bits - 1))   // offset binary -> two's complement
        return (0..<(encoding.bits / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) }
    }

    static let rawCases: [(SampleEncoding, Bool)] = SampleEncoding.allCases.flatMap { e in [(e, false), (e, true)] }

    /// Every RAW encoding × byte order: the format word carries the byte order exactly for
    /// multi-byte samples, writing (`CodeWriter`) stores the bytes in that order, and reading
    /// with the same `RawFormat` (direct and through libsndfile) gives back every bin.
    @Test(arguments: LibSndfileTests.rawCases)
    func rawMappingRoundTrips(_ encoding: SampleEncoding, _ bigEndian: Bool) throws {
        let format = AudioContainer.raw.sfFormat(encoding, bigEndian: bigEndian)
        #expect(format & Int32(SF_FORMAT_TYPEMASK) == Int32(SF_FORMAT_RAW))
        #expect(format & Int32(SF_FORMAT_SUBMASK) == encoding.sfSubtype)
        let endian = format & Int32(SF_FORMAT_ENDMASK)
        #expect(endian == (encoding.bits == 8 ? 0 : bigEndian ? Int32(SF_ENDIAN_BIG) : Int32(SF_ENDIAN_LITTLE)))
        let raw = RawFormat(encoding: encoding, sampleRate: 8000, channels: 1, bigEndian: bigEndian)
        #expect(raw.sfInfo.format == format && raw.sfInfo.samplerate == 8000 && raw.sfInfo.channels == 1)
        #expect(AudioContainer.wav.sfFormat(encoding, bigEndian: bigEndian) == AudioContainer.wav.sfMajor | encoding.sfSubtype)

        let p = try Self.scratch("codes-\(encoding.rawValue)-\(bigEndian ? "be" : "le").raw")
        let bins = Self.bins(encoding)
        let w = try CodeWriter(path: p, container: .raw, encoding: encoding, sampleRate: 8000, channels: 1, bigEndianRaw: bigEndian)
        try bins.withUnsafeBufferPointer { (b) throws(SoundFileError) in try w.write(bins: b) }
        try w.close()
        let stored = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        let width = encoding.bits / 8
        #expect(stored.count == bins.count * width)
        if width > 1 {
            for i in [0, 1, bins.count / 2, bins.count - 1] {
                let le = Self.littleEndianBytes(bins[i], encoding)
                #expect(Array(stored[(i * width)..<((i + 1) * width)]) == (bigEndian ? le.reversed() : le), "sample \(i)")
            }
        }
        for direct in [true, false] {
            let r = try CodeReader(path: p, raw: raw, allowDirect: direct)
            #expect(r.info.encoding == encoding && r.info.container == .raw && r.info.frames == Int64(bins.count))
            #expect(try r.readAll().bins == bins, "allowDirect \(direct)")
        }
        if width > 1 {   // the byte order is honoured: the other one reads other bins
            let swapped = RawFormat(encoding: encoding, sampleRate: 8000, channels: 1, bigEndian: !bigEndian)
            #expect(try CodeReader(path: p, raw: swapped).readAll().bins != bins)
        }
    }

    /// `DescriptorIO.read` with and without an offset, across short reads (a pipe delivers what
    /// the writer wrote so far), and `write` of a whole buffer.
    @Test func descriptorTransfersAreWhole() throws {
        let p = try Self.scratch("bytes.bin")
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        let w = bytes.withUnsafeBytes { DescriptorIO.write(fd, $0) }
        #expect(w.count == bytes.count && w.error == 0)
        var buf = [UInt8](repeating: 0, count: 70_000)
        let at = buf.withUnsafeMutableBytes { DescriptorIO.read(fd, into: $0, at: 50_000) }
        #expect(at.count == 50_000 && at.error == 0 && Array(buf[0..<50_000]) == Array(bytes[50_000...]))
        #expect(lseek(fd, 0, SEEK_CUR) == 100_000, "pread leaves the position alone")
        #expect(lseek(fd, 10, SEEK_SET) == 10)
        let seq = buf.withUnsafeMutableBytes { DescriptorIO.read(fd, into: $0) }
        #expect(seq.count == 70_000 && Array(buf) == Array(bytes[10..<70_010]) && lseek(fd, 0, SEEK_CUR) == 70_010)
        let bad = buf.withUnsafeMutableBytes { DescriptorIO.read(-1, into: $0, at: 0) }
        #expect(bad.count == 0 && bad.error == EBADF)

        var pipeFDs: [Int32] = [0, 0]
        #expect(pipe(&pipeFDs) == 0)
        let (rfd, wfd) = (pipeFDs[0], pipeFDs[1])
        let writer = Thread {
            for piece in stride(from: 0, to: 30_000, by: 7_000) {
                _ = bytes[piece..<min(piece + 7_000, 30_000)].withUnsafeBytes { DescriptorIO.write(wfd, $0) }
                usleep(2_000)
            }
            close(wfd)
        }
        writer.start()
        var got = [UInt8](repeating: 0, count: 40_000)
        let r = got.withUnsafeMutableBytes { DescriptorIO.read(rfd, into: $0) }
        close(rfd)
        #expect(r.count == 30_000 && r.error == 0 && Array(got[0..<30_000]) == Array(bytes[0..<30_000]))
    }
}
