import Foundation

/// Appends one JSON object per line.
final class JSONLLog {
    private let handle: FileHandle
    init(path: String, append: Bool) throws {
        if !append || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw AudioDQError.cannotWrite(path: path, reason: "cannot create log")
            }
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw AudioDQError.cannotWrite(path: path, reason: "cannot open log") }
        h.seekToEndOfFile()
        handle = h
    }
    func write(_ fields: [String: Double]) throws {
        let body = fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        do { try handle.write(contentsOf: Data(("{" + body + "}\n").utf8)) } catch {
            throw AudioDQError.cannotWrite(path: "training log", reason: "\(error)")
        }
    }
}
