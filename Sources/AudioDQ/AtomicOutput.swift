import Synchronization
import Dequantization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An output written under a temporary name in the destination folder and renamed into place on
/// `commit()`, so a crash or an error never leaves a file that looks complete but is not.
///
/// Existing regular files are replaced only with `force`. Character devices and FIFOs
/// (`/dev/full`, a named pipe, a terminal) are written in place: they cannot be renamed onto. So
/// is a name of one of the process's own descriptors (`/dev/stdout`, `/dev/fd/N`,
/// `/proc/self/fd/N`, or a symbolic link leading to one: `OutputTarget`), whatever the descriptor
/// refers to (a regular file too): it is written through that descriptor (a duplicate of it),
/// never renamed onto, and needs no `force`. A symbolic link to a regular file (or a dangling
/// one) stays a link: the temporary file goes beside the link's final target and is renamed
/// onto the target, so the target is replaced atomically (with `force` when it exists).
/// Temporary names are `.NAME.audiodq-tmp-PID-N-HOST` (HOST: FNV-1a 64 of the host name, hex,
/// so a run on another host sharing the folder is never taken for a dead local process);
/// `AtomicOutput.isLeftover` recognises them.
///
/// `init(claiming:)` is the batch form (outputs, their sidecars, manifests): the temporary name is
/// fixed, `.NAME.audiodq-part`, and the file is held with an exclusive `flock` while it is written,
/// so the temporary file is also the claim that keeps a concurrent run (another process, or
/// another host over NFS) off this output. A lock dies with its process, so a file left by a
/// killed run is free to be taken over, or removed, by a run on any host.
public final class AtomicOutput {
    /// The output's name as given (in messages).
    public let finalPath: String
    /// The name the temporary file is renamed onto: `finalPath`, or the final target when
    /// `finalPath` is a symbolic link.
    let destination: String
    /// Where to write: a temporary sibling of `destination`, or `finalPath` itself for a stream.
    public let writePath: String
    /// True when the destination is a device, FIFO or descriptor written in place.
    public let isStream: Bool
    /// The process's descriptor `finalPath` names, written through (a duplicate of it) instead
    /// of opening `writePath`.
    public let descriptor: Int32?
    private var done = false
    /// The descriptor holding the claim's lock (claiming form only), closed on commit or abort.
    private var lockFD: Int32 = -1
    private static let counter = Atomic<Int>(0)

    public static let tempMarker = ".audiodq-tmp-"
    public static let partSuffix = ".audiodq-part"

    /// Checks the destination and reserves a temporary name.
    /// - Throws: `outputExists` (regular file, no `force`), `outputIsDirectory`,
    ///   `outputDirectoryMissing`, `outputIsInput` when it is one of `inputs` (same device and inode).
    ///   `cannotWrite` for a descriptor name whose descriptor is not open for writing.
    public init(path: String, force: Bool, inputs: [String] = []) throws {
        finalPath = path
        var st = stat()
        let exists = stat(path, &st) == 0
        try AtomicOutput.refuseInputs(inputs, as: path)
        let type = st.st_mode & S_IFMT
        let target = try OutputTarget.resolve(path)
        if exists && type == S_IFDIR { throw AudioDQError.outputIsDirectory(path: path) }
        if case .descriptor(let fd) = target {
            isStream = true
            descriptor = fd
            writePath = path
            destination = path
            return
        }
        descriptor = nil
        if exists && (type == S_IFCHR || type == S_IFIFO) {
            isStream = true
            writePath = path
            destination = path
            return
        }
        if exists && !force { throw AudioDQError.outputExists(path: path) }
        guard case .path(let resolved) = target else { preconditionFailure("descriptors returned above") }
        destination = resolved
        let (dir, name) = AtomicOutput.split(resolved)
        var sd = stat()
        guard stat(dir, &sd) == 0, (sd.st_mode & S_IFMT) == S_IFDIR else {
            throw AudioDQError.outputDirectoryMissing(path: path, directory: dir)
        }
        let n = AtomicOutput.counter.add(1, ordering: .relaxed).newValue
        isStream = false
        writePath = (dir == "." && !resolved.hasPrefix("./") ? "" : dir + "/")
            + "." + name + AtomicOutput.tempMarker + "\(getpid())-\(n)-\(AtomicOutput.hostTag)"
    }

    /// Claims `path` (an output of a batch) and reserves `.NAME.audiodq-part` as its temporary
    /// file, locked; nil when another live run holds that lock. An existing output is replaced on
    /// `commit()` (batch conversion decides beforehand whether to redo it).
    public init?(claiming path: String, inputs: [String] = []) throws {
        finalPath = path
        destination = path
        descriptor = nil
        isStream = false
        try AtomicOutput.refuseInputs(inputs, as: path)
        let (dir, name) = AtomicOutput.split(path)
        writePath = (dir == "." && !path.hasPrefix("./") ? "" : dir + "/") + "." + name + AtomicOutput.partSuffix
        for _ in 0..<3 {
            let fd = open(writePath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 {
                let e = errno
                if e == ENOENT { throw AudioDQError.outputDirectoryMissing(path: path, directory: dir) }
                throw AudioDQError.cannotWrite(path: path, reason: String(cString: strerror(e)))
            }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let e = errno
                Glibc.close(fd)
                if e == EWOULDBLOCK { done = true; return nil }
                throw AudioDQError.cannotWrite(path: path, reason: "cannot lock \(writePath): \(String(cString: strerror(e)))")
            }
            // between open and flock the holder may have renamed the file into place: then this
            // lock is on a file no longer at writePath, so try again
            if AtomicOutput.sameFile(fd, writePath) {
                lockFD = fd
                _ = ftruncate(fd, 0)   // a killed run's leftover starts over
                return
            }
            Glibc.close(fd)
        }
        done = true
        return nil
    }

    deinit { abort() }

    /// Throws `outputIsInput` when `path` is one of `inputs`, by name or by device and inode.
    static func refuseInputs(_ inputs: [String], as path: String) throws {
        var st = stat()
        let exists = stat(path, &st) == 0
        for input in inputs {
            var si = stat()
            if input == path || (exists && stat(input, &si) == 0 && si.st_dev == st.st_dev && si.st_ino == st.st_ino) {
                throw AudioDQError.outputIsInput(path: path)
            }
        }
    }

    /// This host's tag in temporary names.
    static let hostTag: String = {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, 255)
        let host = String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(NoiseKey.fnv1a64(host), radix: 16)
    }()

    /// For a `.NAME.audiodq-tmp-PID-N-HOST` name: the PID when the file is this host's.
    static func localOwner(ofTemporary name: String) -> Int32? {
        guard let tail = name.components(separatedBy: tempMarker).last else { return nil }
        let parts = tail.split(separator: "-")
        guard parts.count == 3, String(parts[2]) == hostTag else { return nil }
        return Int32(parts[0])
    }

    static func sameFile(_ fd: Int32, _ path: String) -> Bool {
        var a = stat(), b = stat()
        return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }

    /// Removes `.NAME.audiodq-part` left by a run that died (its lock is free); a live run's is kept.
    static func removeIfAbandoned(part path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 && sameFile(fd, path) { unlink(path) }
    }

    private func releaseLock() {
        if lockFD >= 0 { Glibc.close(lockFD) }
        lockFD = -1
    }

    static func split(_ path: String) -> (dir: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// Renames the temporary file onto the destination (durably, see `commit(_:voucher:)`).
    public func commit() throws {
        try AtomicOutput.commit([self], voucher: nil)
    }

    /// Whether commits flush to stable storage: true unless the environment sets
    /// `AUDIODQ_FSYNC=0` (scratch data, where a power loss may lose outputs already reported).
    static let durable: Bool = {
        guard let v = getenv("AUDIODQ_FSYNC") else { return true }
        return String(cString: v) != "0"
    }()

    /// Commits a group of outputs: `members` (the data) and the `voucher` that describes them (the
    /// sidecar), in an order that keeps one invariant for readers (batch resume, `restore`): a
    /// voucher at its destination always describes the members at theirs; members without a
    /// voucher are not done.
    /// 1. With `flush`, every temporary file is flushed (`fsync`): no rename can reach the disk
    ///    before the bytes it names.
    /// 2. A voucher already at the destination (an older run's) is removed: it would vouch for the
    ///    new members between steps 3 and 4.
    /// 3. The members are renamed into place (with `flush`, then their folders flushed, so no
    ///    voucher can reach the disk before their names), then 4. the voucher, and with `flush`
    ///    its folder: when this returns, the group survives a power loss.
    /// When a rename fails, the members already renamed are removed and every temporary file is
    /// deleted: the group is either all in place or none of it. Streams (devices, FIFOs) are
    /// written in place and have nothing to rename. Without `flush` (batch conversion, which
    /// flushes the whole file system once before its manifest) the order holds for a killed
    /// process but a power loss may keep any subset of the steps.
    static func commit(_ members: [AtomicOutput], voucher: AtomicOutput?, flush: Bool = durable) throws {
        let group = (members + (voucher.map { [$0] } ?? [])).filter { !$0.done }
        defer { group.forEach { $0.abort() } }
        let files = group.filter { !$0.isStream }
        if flush { for f in files { try f.flush() } }
        if let voucher, !voucher.done, !voucher.isStream { remove(voucher.destination) }
        var renamed: [AtomicOutput] = []
        func place(_ batch: [AtomicOutput]) throws {
            for f in batch {
                if let e = f.renameIntoPlace() {
                    for r in renamed { remove(r.destination); r.releaseLock() }
                    throw e
                }
                f.done = true   // its temporary name is gone: nothing for abort to remove
                renamed.append(f)
            }
            if flush { try syncFolders(of: batch) }
        }
        try place(files.filter { $0 !== voucher })
        try place(files.filter { $0 === voucher })
        group.forEach { $0.done = true; $0.releaseLock() }
    }

    /// `fsync` of each folder holding one of `outputs` (once per folder).
    private static func syncFolders(of outputs: [AtomicOutput]) throws {
        var folders: [String] = []
        for f in outputs where !folders.contains(split(f.destination).dir) {
            folders.append(split(f.destination).dir)
            try syncFolder(folders.last!, reportAs: f.finalPath)
        }
    }

    /// Flushes the whole file system holding `path` (`syncfs`): batch conversion's one flush
    /// before its manifest, instead of three per output.
    static func syncFileSystem(of path: String) throws {
        noteFolder(path, "syncfs")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        if flushFileSystem(fd) != 0 {
            throw AudioDQError.cannotWrite(path: path, reason: "cannot flush to disk: \(String(cString: strerror(errno)))")
        }
    }

    /// `fsync` of the temporary file (through a descriptor of its own: writers have closed theirs).
    private func flush() throws {
        AtomicOutput.note("fsync", finalPath)
        let fd = open(writePath, O_RDONLY | O_CLOEXEC)
        if fd < 0 || fsync(fd) != 0 {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { Glibc.close(fd) }
            throw AudioDQError.cannotWrite(path: finalPath, reason: "cannot flush to disk: \(reason)")
        }
        Glibc.close(fd)
    }

    /// Renames the temporary file onto `destination`; the error, or nil.
    private func renameIntoPlace() -> AudioDQError? {
        AtomicOutput.note("rename", destination)
        let failed = AtomicOutput.probe.withLock { $0[AtomicOutput.split(destination).dir]?.failing.contains(destination) ?? false }
        if failed || rename(writePath, destination) != 0 {
            return .cannotWrite(path: finalPath, reason: failed ? "injected failure" : String(cString: strerror(errno)))
        }
        return nil
    }

    /// `fsync` of a folder, so the names renamed into it are on disk. File systems that cannot
    /// sync a folder (EINVAL) are left alone.
    static func syncFolder(_ dir: String, reportAs path: String) throws {
        noteFolder(dir)
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { Glibc.close(fd) }
        if fsync(fd) != 0 && errno != EINVAL {
            throw AudioDQError.cannotWrite(path: path, reason: "cannot flush folder \(dir) to disk: \(String(cString: strerror(errno)))")
        }
    }

    private static func remove(_ path: String) {
        note("unlink", path)
        _ = unlink(path)
    }

    /// Test seam, keyed by folder: commits into a watched folder log their file-system steps
    /// ("fsync NAME", "rename NAME", "unlink NAME", "fsyncdir", "syncfs"; NAME the
    /// destination's file name), and a rename onto a destination in `failing` fails.
    struct Probe {
        var log: [String] = []
        var failing: Set<String> = []
    }
    static let probe = Mutex<[String: Probe]>([:])

    private static func note(_ step: String, _ path: String) {
        let (dir, name) = split(path)
        probe.withLock { if $0[dir] != nil { $0[dir]!.log.append("\(step) \(name)") } }
    }

    private static func noteFolder(_ dir: String, _ step: String = "fsyncdir") {
        probe.withLock { if $0[dir] != nil { $0[dir]!.log.append(step) } }
    }

    /// Removes the temporary file (no-op after `commit()`).
    public func abort() {
        guard !done else { return }
        done = true
        if !isStream { unlink(writePath) }
        releaseLock()
    }

    /// Writes `data` to `path` under a temporary name and renames it into place.
    public static func write(_ data: [UInt8], to path: String, force: Bool, inputs: [String] = []) throws {
        try write(data, into: AtomicOutput(path: path, force: force, inputs: inputs))
    }

    /// Writes `data` to `out`'s temporary file and commits it.
    static func write(_ data: [UInt8], into out: AtomicOutput) throws {
        let fd = try FileDescriptor(writing: out)
        try data.withUnsafeBytes { try fd.write($0) }
        try fd.close()
        try out.commit()
    }

    /// True for a file name audiodq used as a temporary output name (either form).
    public static func isLeftover(_ name: String) -> Bool {
        name.hasPrefix(".") && (name.contains(tempMarker) || name.hasSuffix(partSuffix))
    }
}

#if os(Linux)
/// glibc's `syncfs(2)` (declared only under _GNU_SOURCE, so not imported by Glibc).
@_silgen_name("syncfs") private func flushFileSystem(_ fd: Int32) -> Int32
#else
private func flushFileSystem(_ fd: Int32) -> Int32 { sync(); return 0 }
#endif
