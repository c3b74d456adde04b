import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Computes a file's SHA-256 on a background thread while the caller does other work.
final class FileHasher: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result: Result<String, AudioDQError> = .failure(.invalidArgument("not started"))

    init(path: String) {
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async { [self] in
            result = Result { try FileHasher.hash(path: path) }.mapError { $0 as? AudioDQError ?? .cannotRead(path: path, reason: "\($0)") }
            group.leave()
        }
    }

    /// Waits for the digest.
    func value() throws -> String {
        group.wait()
        return try result.get()
    }

    /// Files at least this large are hashed from read-only mappings of `mapWindow` bytes at a
    /// time (no copy into a buffer; one window mapped at once, so resident memory stays small).
    /// Smaller ones are read into a 64 KiB buffer: many short files hashed from several threads
    /// must not each map and unmap (unmapping shoots down the TLBs of the other cores).
    static let mapThreshold = 1 << 20
    static let mapWindow = 8 << 20

    static func hash(path: String) throws -> String {
        let fd = try FileDescriptor(reading: path)
        var sha = SourceHash()
        let size = Int(fd.size)
        if size >= mapThreshold {
            var offset = 0
            while offset < size, let map = fd.mapped(offset: offset, bytes: min(mapWindow, size - offset)) {
                sha.update(map)
                munmap(UnsafeMutableRawPointer(mutating: map.baseAddress), map.count)
                offset += map.count
            }
            if offset == size { return sha.finalizeHex() }
            if offset > 0 { throw AudioDQError.cannotRead(path: path, reason: "cannot map at byte \(offset)") }
        }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 64)
        defer { buf.deallocate() }
        while true {
            let n = try fd.read(into: buf)
            if n == 0 { break }
            sha.update(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
        return sha.finalizeHex()
    }
}
