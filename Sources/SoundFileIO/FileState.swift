#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `fstat` says of an open file, compared before and after it is read to find a file that
/// changed meanwhile: device, inode, size, and the modification and status-change times (ns).
/// Any write, truncation or replacement changes the size or the times, except a write that keeps
/// the size and falls within the file system's timestamp granularity (one kernel tick for ext4,
/// a few ms) of the first `fstat`.
public struct FileState: Equatable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var modified: Int64
    public var changed: Int64

    /// The state of descriptor `fd`, or nil when `fstat` fails.
    public init?(fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        changed = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }
}
