import Foundation

/// The files of a batch conversion: every audio file under a folder (recursively, hidden files and
/// folders skipped), or the lines of a manifest (one path per line, relative to the manifest's
/// folder or absolute; blank lines and lines starting with "#" ignored). Sorted by relative path.
///
/// Each item's `relative` path (with "/" separators) names its noise stream and its place in the
/// output tree: OUT_DIR/relative with the extension replaced by the output format's.
/// Absolute manifest entries use the path without its leading "/" as `relative`.
public struct BatchPlan: Sendable {
    public struct Item: Sendable, Equatable {
        public var source: String
        public var relative: String
        public var output: String
    }

    public static let audioExtensions: Set<String> = ["wav", "wave", "aif", "aiff", "aifc", "au", "snd", "flac", "w64", "rf64", "caf"]

    public var items: [Item]

    /// True when `input` names a batch (a folder or a manifest) rather than one audio file.
    public static func isBatchInput(_ input: String) -> Bool {
        if FileSystem.isDirectory(input) { return true }
        let ext = FileSystem.pathExtension(input).lowercased()
        return ["txt", "lst", "list", "manifest", "m3u"].contains(ext)
    }

    public init(input: String, outputDir: String, format: ValueFormat, includeRaw: Bool = false) throws {
        var found: [(String, String)] = []
        var exts = BatchPlan.audioExtensions
        if includeRaw { exts.insert("raw"); exts.insert("pcm") }
        if FileSystem.isDirectory(input) {
            let root = input.hasSuffix("/") ? String(input.dropLast()) : input
            guard let e = FileManager.default.enumerator(atPath: root) else {
                throw AudioDQError.cannotRead(path: input, reason: "cannot list folder")
            }
            while let rel = e.nextObject() as? String {
                let name = rel.split(separator: "/").last.map(String.init) ?? rel
                if name.hasPrefix(".") {
                    if FileSystem.isDirectory(root + "/" + rel) { e.skipDescendants() }
                    continue
                }
                guard exts.contains(FileSystem.pathExtension(name).lowercased()) else { continue }
                let full = root + "/" + rel
                if FileSystem.isDirectory(full) { continue }
                found.append((full, rel))
            }
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw AudioDQError.cannotRead(path: input, reason: FileSystem.exists(input) ? "cannot read manifest" : "no such file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw AudioDQError.malformed(path: input, reason: "manifest is not UTF-8 text")
            }
            let base = (input as NSString).deletingLastPathComponent
            for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.isEmpty || line.hasPrefix("#") { continue }
                if line.hasPrefix("/") {
                    found.append((line, String(line.drop(while: { $0 == "/" }))))
                } else {
                    let rel = BatchPlan.normalize(line)
                    found.append((base.isEmpty ? line : base + "/" + line, rel))
                }
            }
        }
        found.sort { $0.1 < $1.1 }
        let outRoot = outputDir.hasSuffix("/") ? String(outputDir.dropLast()) : outputDir
        items = found.map { src, rel in
            let stem = FileSystem.pathExtension(rel).isEmpty ? rel : String(rel.dropLast(FileSystem.pathExtension(rel).count + 1))
            return Item(source: src, relative: rel, output: outRoot + "/" + stem + "." + format.rawValue)
        }
    }

    /// Removes "./" components and repeated slashes ("a/./b//c.wav" → "a/b/c.wav").
    static func normalize(_ path: String) -> String {
        path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }
}
