import SoundFileIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX file descriptor with whole-buffer reads and writes (SoundFileIO's `DescriptorIO`, the
/// one retry loop) and errors that name the file.
final class FileDescriptor {
    let path: String
    private(set) var fd: Int32

    init(reading path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw AudioDQError.cannotRead(path: path, reason: String(cString: strerror(errno))) }
    }

    /// Opens for writing; `create` makes a new file (0644), otherwise the file must exist
    /// (devices, FIFOs).
    init(writing path: String, create: Bool, reportAs: String) throws {
        self.path = reportAs
        fd = create ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                    : open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw AudioDQError.cannotWrite(path: reportAs, reason: String(cString: strerror(errno))) }
    }

    /// Opens the write side of `output`: a duplicate of the process's descriptor it names
    /// (written at that descriptor's own position), a new temporary file, or the device/FIFO.
    convenience init(writing output: AtomicOutput) throws {
        if let d = output.descriptor {
            self.init(descriptor: fcntl(d, F_DUPFD_CLOEXEC, 0), reportAs: output.finalPath)
        } else {
            try self.init(writing: output.writePath, create: !output.isStream, reportAs: output.finalPath)
        }
        if fd < 0 { throw AudioDQError.cannotWrite(path: output.finalPath, reason: String(cString: strerror(errno))) }
    }

    private init(descriptor: Int32, reportAs: String) {
        path = reportAs
        fd = descriptor
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    var size: Int64 {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int64(st.st_size) : -1
    }

    /// Writes all of `buf` at the current position (`DescriptorIO.write`).
    func write(_ buf: UnsafeRawBufferPointer) throws {
        let (_, error) = DescriptorIO.write(fd, buf)
        if error != 0 { throw AudioDQError.cannotWrite(path: path, reason: String(cString: strerror(error))) }
    }

    /// Reads from the current position until `buf` is full or end of file; returns the bytes
    /// read (`DescriptorIO.read`).
    func read(into buf: UnsafeMutableRawBufferPointer) throws -> Int {
        let (done, error) = DescriptorIO.read(fd, into: buf)
        if error != 0 { throw AudioDQError.cannotRead(path: path, reason: String(cString: strerror(error))) }
        return done
    }

    /// Reserves `bytes` for the file (posix_fallocate); file systems without it are left alone.
    func preallocate(_ bytes: Int64) throws {
        guard bytes > 0 else { return }
        let rc = posix_fallocate(fd, 0, off_t(bytes))
        if rc == ENOSPC { throw AudioDQError.cannotWrite(path: path, reason: String(cString: strerror(rc))) }
    }

    func close() throws {
        guard fd >= 0 else { return }
        let rc = Glibc.close(fd)
        fd = -1
        if rc != 0 { throw AudioDQError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
    }
}
