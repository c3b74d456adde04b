#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the valid bits a RIFF/WAVE header declares (libsndfile does not expose them).
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

    /// The declared valid bits of the RIFF/WAVE file open on `fd`; nil when the file is not
    /// RIFF/WAVE, has no "fmt " chunk of at least 16 bytes in the first 64 KiB, or declares none.
    static func read(fd: Int32) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0,
              let (pos, n) = HeaderCheck.riffChunk("fmt ", fd: fd, size: Int64(st.st_size), limit: searchLimit),
              n >= 16, let body = HeaderCheck.read(fd, pos + 8, n >= 20 ? 20 : 16) else { return nil }
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
