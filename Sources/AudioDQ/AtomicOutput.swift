import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output written under a temporary name in the destination folder and renamed into place on
/// `commit()`, so a crash or an error never leaves a file that looks complete but is not.
///
/// Existing regular files are replaced only with `force`. Character devices and FIFOs
/// (`/dev/stdout`, `/dev/full`, a named pipe) are written in place: they cannot be renamed onto.
/// Temporary names are `.NAME.audiodq-tmp-PID-N`; `AtomicOutput.isLeftover` recognises them.
public final class AtomicOutput {
    public let finalPath: String
    /// Where to write: a temporary sibling of `finalPath`, or `finalPath` itself for a stream.
    public let writePath: String
    /// True when the destination is a device or FIFO written in place.
    public let isStream: Bool
    private var done = false
    private static let counter = Atomic<Int>(0)

    public static let tempMarker = ".audiodq-tmp-"

    /// Checks the destination and reserves a temporary name.
    /// - Throws: `outputExists` (regular file, no `force`), `outputIsDirectory`,
    ///   `outputDirectoryMissing`, `outputIsInput` when it is one of `inputs` (same device and inode).
    public init(path: String, force: Bool, inputs: [String] = []) throws {
        finalPath = path
        var st = stat()
        let exists = stat(path, &st) == 0
        for input in inputs {
            var si = stat()
            if stat(input, &si) == 0, exists, si.st_dev == st.st_dev, si.st_ino == st.st_ino {
                throw AudioDQError.outputIsInput(path: path)
            }
            if input == path { throw AudioDQError.outputIsInput(path: path) }
        }
        let type = st.st_mode & S_IFMT
        if exists && (type == S_IFCHR || type == S_IFIFO) {
            isStream = true
            writePath = path
            return
        }
        if exists && type == S_IFDIR { throw AudioDQError.outputIsDirectory(path: path) }
        if exists && !force { throw AudioDQError.outputExists(path: path) }
        let (dir, name) = AtomicOutput.split(path)
        var sd = stat()
        guard stat(dir, &sd) == 0, (sd.st_mode & S_IFMT) == S_IFDIR else {
            throw AudioDQError.outputDirectoryMissing(path: path, directory: dir)
        }
        let n = AtomicOutput.counter.add(1, ordering: .relaxed).newValue
        isStream = false
        writePath = (dir == "." && !path.hasPrefix("./") ? "" : dir + "/")
            + "." + name + AtomicOutput.tempMarker + "\(getpid())-\(n)"
    }

    deinit { abort() }

    static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// Renames the temporary file onto the destination.
    public func commit() throws {
        guard !done else { return }
        done = true
        if isStream { return }
        if rename(writePath, finalPath) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(writePath)
            throw AudioDQError.cannotWrite(path: finalPath, reason: reason)
        }
    }

    /// Removes the temporary file (no-op after `commit()`).
    public func abort() {
        guard !done else { return }
        done = true
        if !isStream { unlink(writePath) }
    }

    /// Writes `data` to `path` under a temporary name and renames it into place.
    public static func write(_ data: [UInt8], to path: String, force: Bool, inputs: [String] = []) throws {
        let out = try AtomicOutput(path: path, force: force, inputs: inputs)
        let fd = try FileDescriptor(writing: out.writePath, create: !out.isStream, reportAs: path)
        try data.withUnsafeBytes { try fd.write($0) }
        try fd.close()
        try out.commit()
    }

    /// True for a file name audiodq used as a temporary output name.
    public static func isLeftover(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(tempMarker)
    }
}
