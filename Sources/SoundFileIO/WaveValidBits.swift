#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the valid bits a WAVE_FORMAT_EXTENSIBLE header declares (libsndfile does not expose them).
///
/// The "fmt " chunk body of such a file: wFormatTag (UInt16 LE) = 0xFFFE at offset 0, cbSize
/// (UInt16 LE) ≥ 22 at offset 16, wValidBitsPerSample (UInt16 LE) at offset 18. Only the chunk
/// headers of the first 64 KiB are walked (`pread` on the descriptor the samples come from), so a
/// hostile file costs at most a few hundred small reads.
enum WaveValidBits {
    /// Chunks whose header starts at or beyond this byte are not looked at.
    static let searchLimit: Int64 = 65536

    /// wValidBitsPerSample of the RIFF/WAVE file open on `fd`; nil when the file is not RIFF/WAVE,
    /// has no "fmt " chunk in the first 64 KiB, is not WAVE_FORMAT_EXTENSIBLE, its extension is
    /// shorter than 22 bytes, or it declares 0 (unknown).
    static func read(fd: Int32) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0,
              let (pos, n) = HeaderCheck.riffChunk("fmt ", fd: fd, size: Int64(st.st_size), limit: searchLimit),
              n >= 40, let body = HeaderCheck.read(fd, pos + 8, 20) else { return nil }
        return parse(fmtBody: body)
    }

    /// The rule on the first 20 bytes (or more) of a "fmt " body.
    static func parse(fmtBody b: [UInt8]) -> Int? {
        guard b.count >= 20 else { return nil }
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        guard le16(0) == 0xFFFE, le16(16) >= 22 else { return nil }
        let valid = le16(18)
        return valid == 0 ? nil : valid
    }
}
