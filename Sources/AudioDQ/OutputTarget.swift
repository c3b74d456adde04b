#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an output path really leads, found by following its symbolic links one at a time
/// (`lstat`/`readlink`, at most `maxLinks`):
/// - `descriptor(N)`: a name of one of this process's own open descriptors (`/dev/stdout`,
///   `/dev/fd/N`, `/proc/self/fd/N`, `/proc/PID/fd/N`, or a link leading to one of those): the
///   output is written through descriptor N, in place, whatever it refers to (a regular file,
///   a pipe, a terminal). Such a name cannot be renamed onto: renaming would replace the link
///   (`/dev/stdout` itself) and leave the descriptor empty.
/// - `path(P)`: P is the first name on the chain that is not a link (the path itself when it is
///   not one; a dangling link's target): the name a temporary file is renamed onto, so a link
///   to a regular file keeps being a link and its target is the file replaced.
///
/// A descriptor name is a decimal file name in a folder whose real path (`realpath`) is
/// `/proc/PID/fd` or `/proc/PID/task/TID/fd` for this process's PID, or `/dev/fd` (systems
/// where it is a folder of devices).
enum OutputTarget: Equatable {
    case descriptor(Int32)
    case path(String)

    /// Links followed before giving up (Linux's own limit).
    static let maxLinks = 40

    /// The target of `path`. Throws `cannotWrite` for a chain of more than `maxLinks` links, or
    /// a descriptor name of a descriptor that is not open, or open only for reading.
    static func resolve(_ path: String) throws -> OutputTarget {
        var current = path
        for _ in 0...maxLinks {
            if let fd = ownDescriptor(named: current) {
                let flags = fcntl(fd, F_GETFL)
                if flags < 0 { throw AudioDQError.cannotWrite(path: path, reason: "descriptor \(fd) is not open") }
                if flags & O_ACCMODE == O_RDONLY {
                    throw AudioDQError.cannotWrite(path: path, reason: "descriptor \(fd) is open only for reading")
                }
                return .descriptor(fd)
            }
            var st = stat()
            guard lstat(current, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK, let link = readLink(current) else {
                return .path(current)
            }
            // a relative link is relative to the folder holding it
            current = link.hasPrefix("/") ? link : AtomicOutput.split(current).dir + "/" + link
        }
        throw AudioDQError.cannotWrite(path: path, reason: "more than \(maxLinks) symbolic links")
    }

    /// N when `path` is a name of this process's descriptor N (see the type's rule).
    static func ownDescriptor(named path: String) -> Int32? {
        let (dir, name) = AtomicOutput.split(path)
        guard !name.isEmpty, name.count <= 9, name.allSatisfy({ $0.isASCII && $0.isNumber }),
              let fd = Int32(name), let real = realPath(dir) else { return nil }
        let proc = "/proc/\(getpid())/"
        if real == "/dev/fd" || real == proc + "fd" { return fd }
        // /proc/thread-self/fd: /proc/PID/task/TID/fd
        let parts = real.split(separator: "/", omittingEmptySubsequences: false)
        if real.hasPrefix(proc + "task/"), parts.count == 6, parts[5] == "fd" { return fd }
        return nil
    }

    private static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    private static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
