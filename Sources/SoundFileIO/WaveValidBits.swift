#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the valid bits a WAVE header declares (libsndfile does not expose them): RIFF/WAVE,
/// RF64 (the same "fmt " chunk after "ds64") and Sony Wave64 (the same fmt body in the chunk
/// of GUID 20746D66-ACF3-11D3-8CD1-00C04F8EDB8A).
///
/// The "fmt " chunk body: wFormatTag (UInt16 LE) at offset 0, wBitsPerSample (UInt16 LE) at 14;
/// for WAVE_FORMAT_EXTENSIBLE (tag 0xFFFE) also cbSize (UInt16 LE) ≥ 22 at 16 and
/// wValidBitsPerSample (UInt16 LE) at 18. A declaration is either
/// - wValidBitsPerSample of an EXTENSIBLE header, when not 0 (unknown), or else
/// - wBitsPerSample of WAVE_FORMAT_PCM (tag 1) or EXTENSIBLE when it is not a multiple of 8 (12-bit
///   audio in a plain fmt chunk: libsndfile reads the 16-bit container it is stored in, samples
///   left-justified).
/// Only the chunk headers of the first 64 KiB are walked (`pread` on the descriptor the samples
/// come from), so a hostile file costs at most a few hundred small reads.
enum WaveValidBits {
    /// Chunks whose header starts at or beyond this byte are not looked at.
    static let searchLimit: Int64 = 65536

    /// The declared valid bits of the WAVE file open on `fd` (`w64`: a Wave64 file, else RIFF or
    /// RF64); nil when the file is not of that form, has no fmt chunk of at least 16
    /// bytes in the first 64 KiB, or declares none.
    static func read(fd: Int32, w64: Bool = false) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let size = Int64(st.st_size)
        let pos: Int64, n: Int64
        if w64 {
            guard let c = HeaderCheck.w64Chunk(HeaderCheck.w64Fmt, fd: fd, size: size, limit: searchLimit) else { return nil }
            (pos, n) = c
        } else {
            guard let c = HeaderCheck.waveChunk("fmt ", fd: fd, size: size, limit: searchLimit) else { return nil }
            (pos, n) = (c.pos + 8, Int64(c.size))
        }
        guard n >= 16, let body = HeaderCheck.read(fd, pos, n >= 20 ? 20 : 16) else { return nil }
        return parse(fmtBody: body)
    }

    /// The rule on the first 16 bytes (or more) of a "fmt " body.
    static func parse(fmtBody b: [UInt8]) -> Int? {
        guard b.count >= 16 else { return nil }
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        let tag = le16(0), bitsPerSample = le16(14)
        if tag == 0xFFFE, b.count >= 20, le16(16) >= 22, le16(18) != 0 { return le16(18) }
        return (tag == 1 || tag == 0xFFFE) && bitsPerSample % 8 != 0 ? bitsPerSample : nil
    }
}
