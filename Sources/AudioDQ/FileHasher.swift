import Foundation

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

    static func hash(path: String) throws -> String {
        let fd = try FileDescriptor(reading: path)
        var sha = SourceHash()
        // 64 KiB, not zero-filled, below malloc's mmap threshold: many short files hashed from
        // several threads must not each map and unmap a buffer (unmapping shoots down the TLBs of
        // the other cores)
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
