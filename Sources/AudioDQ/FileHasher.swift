import Foundation
import SoundFileIO
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 of a file, read in 1 MiB pieces (never mapped: a mapped page truncated away by another
/// process would raise SIGBUS), either by path or from the descriptor a `CodeReader` reads
/// its samples from, so the digest is of the file that was converted; optionally on a background
/// thread while the caller does other work.
final class FileHasher: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result: Result<String, AudioDQError> = .failure(.invalidArgument("not started"))

    /// Starts hashing `reader`'s file on another thread (`pread` only: the reader stays usable).
    init(reader: CodeReader) {
        group.enter()
        let box = UncheckedBox(reader)
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = Result { try FileHasher.hash(reader: box.value) }.mapError { $0 as? AudioDQError ?? .cannotRead(path: box.value.path, reason: "\($0)") }
            group.leave()
        }
    }

    /// Waits for the digest.
    func value() throws -> String {
        group.wait()
        return try result.get()
    }

    static let pieceBytes = 1 << 20

    /// SHA-256 of the bytes `read(buffer, offset)` yields from offset 0 until it returns 0.
    private static func hash(read: (UnsafeMutableRawBufferPointer, Int64) throws -> Int) throws -> String {
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceBytes, alignment: 64)
        defer { buf.deallocate() }
        var sha = SourceHash()
        var offset: Int64 = 0
        while true {
            let n = try read(buf, offset)
            if n == 0 { break }
            sha.update(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
            offset += Int64(n)
        }
        return sha.finalizeHex()
    }

    /// SHA-256 of the file at `path`.
    static func hash(path: String) throws -> String {
        try hashWithState(path: path).sha256
    }

    /// SHA-256 of the file at `path` and its state when it was opened; throws `sourceChanged` when
    /// the file changed while it was hashed.
    static func hashWithState(path: String) throws -> (sha256: String, state: FileState?) {
        let fd = try FileDescriptor(reading: path)
        let state = FileState(fd: fd.fd)
        let digest = try hash { buf, _ in try fd.read(into: buf) }
        if FileState(fd: fd.fd) != state { throw AudioDQError.sourceChanged(path: path) }
        return (digest, state)
    }

    /// Throws `sourceChanged(path)` when the state of `reader`'s file (size, times, inode) is no
    /// longer `state`, taken before the hash: called after the last read, it makes a digest
    /// vouch for exactly the bytes read.
    static func checkUnchanged(_ reader: CodeReader, since state: FileState?, path: String) throws {
        if reader.fileState != state { throw AudioDQError.sourceChanged(path: path) }
    }

    /// Test seam, keyed by input path: run after the source is hashed, before its samples are read.
    static let afterHashingHooks = Mutex<[String: @Sendable () -> Void]>([:])

    /// Runs the test seam registered for `path`, if any.
    static func afterHashing(_ path: String) {
        afterHashingHooks.withLock { $0[path] }?()
    }

    /// SHA-256 of the file `reader` reads its samples from (the same descriptor).
    static func hash(reader: CodeReader) throws -> String {
        do {
            return try hash { (buf, offset) throws(SoundFileError) in try reader.readFileBytes(at: offset, into: buf) }
        } catch let e as SoundFileError { throw AudioDQError.soundFile(e) }
    }
}
