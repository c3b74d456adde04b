#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks a file's declared audio data size against the bytes it really holds.
///
/// libsndfile is lenient: a WAV whose data chunk declares 0 bytes opens with 0 frames (the audio
/// is silently ignored) and a data chunk longer than the file opens with the frames that exist.
/// audiodq refuses both, because a dataset pipeline must not silently lose or invent audio.
/// A declared size of 0xFFFFFFFF (streaming writers' "unknown length") is accepted.
/// Checked containers: RIFF/WAVE, AU, AIFF/AIFC; others rely on the frame count check at the end
/// of reading.
enum HeaderCheck {
    struct DataChunk: Equatable {
        var start: Int64
        var declared: UInt64
        var unknownLength: Bool
    }

    /// Checks the file open on `fd` (the descriptor libsndfile reads, so the bytes checked are
    /// the bytes read; `pread` leaves its offset alone). `path` names the file in errors. A
    /// descriptor that cannot be examined is an error, never a skipped check.
    static func verify(fd: Int32, path: String, container: AudioContainer) throws(SoundFileError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw .readFailed(path: path, reason: "cannot check the header against the file size: \(String(cString: strerror(errno)))")
        }
        let size = Int64(st.st_size)
        let chunk: DataChunk?
        switch container {
        case .wav, .wavex: chunk = riffData(fd: fd, size: size)
        case .au: chunk = auData(fd: fd)
        case .aiff: chunk = aiffData(fd: fd, size: size)
        default: chunk = nil
        }
        guard let c = chunk, !c.unknownLength else { return }
        let available = max(0, size - c.start)
        if c.declared == 0 && available > 0 {
            throw .inconsistentHeader(path: path, detail: "header declares 0 data bytes but \(available) bytes of audio follow")
        }
        if c.declared > UInt64(available) {
            throw .inconsistentHeader(path: path, detail: "data chunk declares \(c.declared) bytes but the file holds only \(available) (truncated)")
        }
    }

    /// `count` bytes of the file from `offset` (`pread`, the descriptor's position untouched), or
    /// nil when the file ends first or the read fails.
    static func read(_ fd: Int32, _ offset: Int64, _ count: Int) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { DescriptorIO.read(fd, into: $0, at: offset).count }
        return n == count ? buf : nil
    }

    private static func le32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }

    private static func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    private static func tag(_ b: [UInt8], _ i: Int) -> String {
        String(decoding: b[i..<(i + 4)], as: UTF8.self)
    }

    /// Walks RIFF chunks after "RIFF....WAVE" to the "data" chunk.
    static func riffData(fd: Int32, size: Int64) -> DataChunk? {
        guard let (pos, n) = riffChunk("data", fd: fd, size: size) else { return nil }
        return DataChunk(start: pos + 8, declared: UInt64(n), unknownLength: n == 0xFFFF_FFFF)
    }

    /// The offset and declared size of the first chunk `name` of a RIFF/WAVE file whose header
    /// starts before byte `limit`.
    static func riffChunk(_ name: String, fd: Int32, size: Int64, limit: Int64 = .max) -> (pos: Int64, size: UInt32)? {
        chunk(name, fd: fd, size: size, limit: limit, forms: ["RIFF"], types: ["WAVE"], bigEndian: false)
    }

    /// The first chunk `name` of a RIFF or RF64 WAVE file (RF64 keeps RIFF's chunk layout; its
    /// 64-bit sizes live in "ds64", and only chunks with 32-bit sizes, such as "fmt ", are
    /// looked for here).
    static func waveChunk(_ name: String, fd: Int32, size: Int64, limit: Int64 = .max) -> (pos: Int64, size: UInt32)? {
        chunk(name, fd: fd, size: size, limit: limit, forms: ["RIFF", "RF64"], types: ["WAVE"], bigEndian: false)
    }

    /// Sony Wave64's GUIDs: "riff", "wave" and "fmt " (the tag's four bytes, then the rest).
    static let w64Riff: [UInt8] = Array("riff".utf8) + [0x2E, 0x91, 0xCF, 0x11, 0xA5, 0xD6, 0x28, 0xDB, 0x04, 0xC1, 0x00, 0x00]
    static let w64Wave: [UInt8] = Array("wave".utf8) + [0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A]
    static let w64Fmt: [UInt8] = Array("fmt ".utf8) + [0xF3, 0xAC, 0xD3, 0x11, 0x8C, 0xD1, 0x00, 0xC0, 0x4F, 0x8E, 0xDB, 0x8A]

    /// The body offset and size of the first Wave64 chunk with GUID `guid`: a 40-byte header (riff
    /// GUID, 64-bit LE size, wave GUID), then chunks of a 16-byte GUID and a 64-bit LE size that
    /// counts the 24-byte chunk header, each padded to a multiple of 8. Walks at most 10,000
    /// chunk headers starting before `limit` and inside the file's `size` bytes.
    static func w64Chunk(_ guid: [UInt8], fd: Int32, size: Int64, limit: Int64 = .max) -> (pos: Int64, size: Int64)? {
        guard let head = read(fd, 0, 40), Array(head[0..<16]) == w64Riff, Array(head[24..<40]) == w64Wave else { return nil }
        var pos: Int64 = 40
        var guardCount = 0
        while pos + 24 <= size, pos < limit, guardCount < 10_000 {
            guardCount += 1
            guard let h = read(fd, pos, 24) else { return nil }
            let n = UInt64(le32(h, 16)) | UInt64(le32(h, 20)) << 32
            guard n >= 24, n <= UInt64(size - pos) else { return nil }
            if Array(h[0..<16]) == guid { return (pos + 24, Int64(n) - 24) }
            pos += (Int64(n) + 7) & ~7
        }
        return nil
    }

    /// The first chunk `name` of an IFF-style file: a 12-byte header (one of `forms`), size, type (one of
    /// `types`), then chunks of a 4-byte tag and a 4-byte size (`bigEndian`: AIFF; else RIFF),
    /// each padded to an even length. Walks at most 10,000 chunk headers, each starting before
    /// `limit` and ending inside the file's `size` bytes; nil when the file is not of that form
    /// or has no such chunk.
    private static func chunk(_ name: String, fd: Int32, size: Int64, limit: Int64, forms: [String], types: [String],
                              bigEndian: Bool) -> (pos: Int64, size: UInt32)? {
        guard let head = read(fd, 0, 12), forms.contains(tag(head, 0)), types.contains(tag(head, 8)) else { return nil }
        var pos: Int64 = 12
        var guardCount = 0
        while pos + 8 <= size, pos < limit, guardCount < 10_000 {
            guardCount += 1
            guard let h = read(fd, pos, 8) else { return nil }
            let n = bigEndian ? be32(h, 4) : le32(h, 4)
            if tag(h, 0) == name { return (pos, n) }
            pos += 8 + Int64(n) + Int64(n & 1)
        }
        return nil
    }

    /// AU: ".snd", data offset (BE u32 at 4), data size (BE u32 at 8; 0xFFFFFFFF = unknown).
    static func auData(fd: Int32) -> DataChunk? {
        guard let h = read(fd, 0, 12), tag(h, 0) == ".snd" else { return nil }
        let n = be32(h, 8)
        return DataChunk(start: Int64(be32(h, 4)), declared: UInt64(n), unknownLength: n == 0xFFFF_FFFF)
    }

    /// AIFF/AIFC: "FORM....AIFF|AIFC", chunks to "SSND" (size includes 8 bytes of offset/blocksize).
    static func aiffData(fd: Int32, size: Int64) -> DataChunk? {
        guard let (pos, n) = aiffChunk("SSND", fd: fd, size: size), let o = read(fd, pos + 8, 8) else { return nil }
        let offset = Int64(be32(o, 0))
        let declared = n >= 8 ? UInt64(n) - 8 - UInt64(min(UInt64(offset), UInt64(n) - 8)) : 0
        return DataChunk(start: pos + 16 + offset, declared: declared, unknownLength: n == 0xFFFF_FFFF)
    }

    /// The offset and declared size of the first chunk `name` of an AIFF/AIFC file.
    static func aiffChunk(_ name: String, fd: Int32, size: Int64) -> (pos: Int64, size: UInt32)? {
        chunk(name, fd: fd, size: size, limit: .max, forms: ["FORM"], types: ["AIFF", "AIFC"], bigEndian: true)
    }

    /// libsndfile 1.2 writes 8-bit AIFF/AIFC data of an odd byte count with its pad byte counted
    /// as data: COMM's numSampleFrames and SSND's size are each one too high, so the file reads
    /// back with an extra sample. Sets both to `frames` frames of `dataBytes` bytes (the pad byte
    /// stays, outside the chunk, as AIFF wants). Returns false when the header is not that layout.
    static func correctAIFFPad(path: String, frames: Int64, dataBytes: Int64) -> Bool {
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, let (comm, _) = aiffChunk("COMM", fd: fd, size: Int64(st.st_size)),
              let (ssnd, n) = aiffChunk("SSND", fd: fd, size: Int64(st.st_size)),
              let c = read(fd, comm + 10, 4), Int64(be32(c, 0)) == frames + 1,
              Int64(n) == 8 + dataBytes + 1 else { return false }
        func put(_ v: UInt32, at offset: Int64) -> Bool {
            let b: [UInt8] = [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            return b.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4, off_t(offset)) } == 4
        }
        return put(UInt32(frames), at: comm + 10) && put(UInt32(8 + dataBytes), at: ssnd + 4)
    }
}
