import CSndFile
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one place SoundFileIO opens files with libsndfile and asks it for format names.
///
/// Every open runs under `sndfileOpenLock` (libsndfile reports open errors through a global,
/// `sf_strerror(NULL)`) and a failure becomes one `SoundFileError` naming the file with
/// libsndfile's reason. `openForReading` adds the checks of a file to be read as discrete audio
/// (it exists, is not a folder, a regular file is not empty) and opens it on a descriptor of its
/// own (`sf_open_fd`), which the caller keeps: the bytes libsndfile parses, `HeaderCheck`
/// verifies, `DirectSamples` reads and `FileHasher` hashes are then those of one open file.
enum LibSndfile {
    /// A file open for reading: libsndfile's handle on `fd` (which libsndfile does not close),
    /// the `SF_INFO` it filled in and the file's `stat` before the open.
    struct Reading {
        var handle: OpaquePointer
        var fd: Int32
        var info: SF_INFO
        var status: stat

        /// Closes the handle, then the descriptor.
        func close() {
            sf_close(handle)
            _ = Glibc.close(fd)
        }
    }

    /// Opens `path` for reading. `raw` (headerless data) gives the rate, channels and format
    /// (`RawFormat.sfInfo`); for other files libsndfile reads them from the header. Throws
    /// `.notFound`, `.isDirectory`, `.emptyFile` (a regular file of 0 bytes) or `.cannotOpen`
    /// (with the `open(2)` or libsndfile reason: not audio, a broken header, …).
    static func openForReading(path: String, raw: RawFormat?) throws(SoundFileError) -> Reading {
        var st = stat()
        guard stat(path, &st) == 0 else { throw .notFound(path: path) }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw .isDirectory(path: path) }
        if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 { throw .emptyFile(path: path) }
        var info = raw?.sfInfo ?? SF_INFO()
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        do throws(SoundFileError) {
            let handle = try open(path: path, descriptor: fd, mode: Int32(SFM_READ), info: &info) { .cannotOpen(path: path, reason: $0) }
            return Reading(handle: handle, fd: fd, info: info, status: st)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }

    /// `sf_open_fd` of a duplicate of `descriptor` that libsndfile owns (the caller's stays open and
    /// the caller's to close) or, without one,
    /// `sf_open(path, …)`, under `sndfileOpenLock`; on failure throws `failure(reason)`, reason
    /// being libsndfile's message.
    static func open(path: String, descriptor: Int32? = nil, mode: Int32, info: inout SF_INFO,
                     failure: (String) -> SoundFileError) throws(SoundFileError) -> OpaquePointer {
        let opened: Result<OpaquePointer, SoundFileError> = sndfileOpenLock.withLock { _ in
            let h: OpaquePointer?
            if let descriptor {
                // libsndfile gets a duplicate it owns (close_desc = 1): it closes that on
                // sf_close and also when opening fails, since sf_open_fd applies close_desc only
                // after a successful open (with close_desc = 0 a failed open closed the caller's
                // descriptor, which the caller then closed again: with several threads the second
                // close could hit a descriptor another thread had just been given)
                let own = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
                h = own < 0 ? nil : sf_open_fd(own, mode, &info, 1)
            } else {
                h = sf_open(path, mode, &info)
            }
            if let h { return .success(h) }
            return .failure(failure(String(cString: sf_strerror(nil))))
        }
        return try opened.get()
    }

    /// libsndfile's name for a major format or a subtype (`SFC_GET_FORMAT_INFO`, e.g. "WAV
    /// (Microsoft)", "Signed 16 bit PCM"), or nil when it has none.
    static func formatName(_ format: Int32) -> String? {
        var fi = SF_FORMAT_INFO()
        fi.format = format
        guard sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &fi, Int32(MemoryLayout<SF_FORMAT_INFO>.size)) == 0,
              let name = fi.name else { return nil }
        return String(cString: name)
    }
}
