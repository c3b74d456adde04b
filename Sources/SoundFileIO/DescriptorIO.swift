#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-buffer transfers on a POSIX descriptor: the one retry loop behind every `read`, `pread`
/// and `write` of SoundFileIO and AudioDQ. A call that returns fewer bytes than asked is followed
/// by another for the rest, a call interrupted by a signal (EINTR) is repeated, and the loop ends
/// when the buffer is done, the file ends (a read of 0 bytes) or a call fails. Invariant of every
/// result: `count` bytes were transferred, in order, from the start of the buffer; `error` is the
/// errno of the failing call, 0 when none failed (then a short read count means end of file).
public enum DescriptorIO {
    /// Reads into `buffer` until it is full, the file ends or a read fails. `offset` nil: `read(2)`
    /// from the descriptor's position, which advances by the bytes read (pipes and devices work);
    /// otherwise `pread(2)` from file offset `offset`, the position left alone (safe alongside
    /// other users of the descriptor, e.g. libsndfile, and from other threads).
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil) -> (count: Int, error: Int32) {
        guard let base = buffer.baseAddress else { return (0, 0) }
        return transfer(buffer.count) { done in
            if let offset { return pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done)) }
            return Glibc.read(fd, base + done, buffer.count - done)
        }
    }

    /// Writes all of `buffer` with `write(2)` at the descriptor's position; `count` < `buffer.count`
    /// only with an `error` (EIO for a write that took 0 bytes and gave no reason).
    public static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> (count: Int, error: Int32) {
        guard let base = buffer.baseAddress else { return (0, 0) }
        let r = transfer(buffer.count) { done in Glibc.write(fd, base + done, buffer.count - done) }
        return r.count < buffer.count && r.error == 0 ? (r.count, EIO) : r
    }

    /// Calls `step(done)` (the bytes transferred so far; it returns what one system call
    /// transferred, or −1 with errno set) until `total` bytes are done, a call returns 0, or a call
    /// fails other than with EINTR.
    @inline(__always)
    private static func transfer(_ total: Int, _ step: (Int) -> Int) -> (count: Int, error: Int32) {
        var done = 0
        while done < total {
            let n = step(done)
            if n < 0 {
                if errno == EINTR { continue }
                return (done, errno)
            }
            if n == 0 { break }
            done += n
        }
        return (done, 0)
    }
}
