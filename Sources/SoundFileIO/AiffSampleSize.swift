#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the sample size an AIFF/AIFC header declares (libsndfile rounds it up to whole bytes).
///
/// The "COMM" chunk body (big-endian): numChannels (UInt16) at 0, numSampleFrames (UInt32) at 2,
/// sampleSize (UInt16, bits) at 6; AIFC adds its compression type after the sample rate. Sample
/// points narrower than their bytes are stored left-justified, zero-padded below: a sampleSize
/// of 12 is 12-bit audio in a 16-bit container.
enum AiffSampleSize {
    /// sampleSize of the AIFF/AIFC file open on `fd`; nil when the file is not AIFF/AIFC, has no
    /// COMM chunk of at least 8 bytes, or declares 0.
    static func read(fd: Int32) -> Int? {
        var st = stat()
        guard fstat(fd, &st) == 0,
              let (pos, n) = HeaderCheck.aiffChunk("COMM", fd: fd, size: Int64(st.st_size)),
              n >= 8, let body = HeaderCheck.read(fd, pos + 8, 8) else { return nil }
        return parse(commBody: body)
    }

    /// The rule on the first 8 bytes (or more) of a COMM body.
    static func parse(commBody b: [UInt8]) -> Int? {
        guard b.count >= 8 else { return nil }
        let size = Int(b[6]) << 8 | Int(b[7])
        return size == 0 ? nil : size
    }
}
