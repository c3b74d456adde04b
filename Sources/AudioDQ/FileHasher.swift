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
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buf.withUnsafeMutableBytes { (p) throws in try fd.read(into: p) }
            if n == 0 { break }
            buf.withUnsafeBytes { sha.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return sha.finalizeHex()
    }
}
