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
        /// Set when an earlier item already maps to the same output (e.g. a.wav and a.flac, or a
        /// repeated manifest line): this item is reported as failed instead of racing for the file.
        public var conflict: String?
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
            found = BatchPlan.parseManifest(text, base: base)
        }
        found.sort { $0.1 < $1.1 }
        let outRoot = outputDir.hasSuffix("/") ? String(outputDir.dropLast()) : outputDir
        var seen: [String: String] = [:]
        items = found.map { src, rel in
            let stem = FileSystem.pathExtension(rel).isEmpty ? rel : String(rel.dropLast(FileSystem.pathExtension(rel).count + 1))
            let output = outRoot + "/" + stem + "." + format.rawValue
            let first = seen[output]
            if first == nil { seen[output] = src }
            return Item(source: src, relative: rel, output: output, conflict: first)
        }
    }

    /// Manifest lines → (source path, relative path): blank lines and "#" comments skipped,
    /// relative entries resolved against `base` (the manifest's folder), absolute entries keyed by
    /// their path without the leading "/".
    public static func parseManifest(_ text: String, base: String) -> [(source: String, relative: String)] {
        var found: [(String, String)] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("/") {
                if let rel = BatchPlan.normalizeInside(String(line.drop(while: { $0 == "/" }))), !rel.isEmpty {
                    found.append((line, rel))
                }
            } else if let rel = BatchPlan.normalizeInside(line) {
                if !rel.isEmpty { found.append((base.isEmpty ? line : base + "/" + line, rel)) }
            } else {
                // climbs above the manifest's folder: keyed (and mirrored) by its absolute path
                let source = base.isEmpty ? line : base + "/" + line
                let absolute = source.hasPrefix("/") ? source : FileManager.default.currentDirectoryPath + "/" + source
                if let rel = BatchPlan.normalizeInside(String(absolute.drop(while: { $0 == "/" }))), !rel.isEmpty {
                    found.append((source, rel))
                }
            }
        }
        return found
    }

    /// Removes "." components and repeated slashes and resolves ".." ("a/./b//../c.wav" →
    /// "a/c.wav"); nil when the path climbs above its start (it would leave the output folder).
    static func normalizeInside(_ path: String) -> String? {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." { continue }
            if c == ".." {
                if parts.isEmpty { return nil }
                parts.removeLast()
            } else {
                parts.append(c)
            }
        }
        return parts.joined(separator: "/")
    }
}
