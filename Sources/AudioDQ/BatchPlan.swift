import Foundation
import SoundFileIO

/// The files of a batch conversion: every file under a folder (recursively; hidden files and
/// folders, and the output folder when it lies inside the input, are left out), or the lines of a
/// manifest (one path per line, relative to the manifest's folder or absolute; blank lines and
/// lines starting with "#" ignored). Sorted by relative path.
///
/// In a folder, files with an audio extension (`AudioContainer.namesHeaderContainer`, and `.raw`/`.pcm`
/// with `--raw`) are converted; any other file is opened with libsndfile, by content, and
/// converted when audiodq reads it exactly (a `.voc`, `.8svx` or extensionless NIST file), else
/// kept as a skipped item with the reason (`skip`). `.raw`/`.pcm` without `--raw` are skipped:
/// headerless bytes are never guessed.
///
/// Each item's `relative` path (with "/" separators) picks its shard and its place in the
/// output tree: OUT_DIR/relative with the extension replaced by the output format's. When several
/// inputs to convert differ only by extension (`a.wav`, `a.au`), all of them, and only they, keep
/// theirs (`a.wav.f32`, `a.au.f32`), and so on while kept names meet others (`a.wav.flac` next to
/// them → `a.wav.flac.f32`, see `keepingExtension`). The plan is the whole listing, made before
/// sharding, so names do not depend on `--shard` or `--jobs`. Absolute manifest entries use the path without its
/// leading "/" as `relative`.
public struct BatchPlan: Sendable {
    public struct Item: Sendable, Equatable {
        public var source: String
        public var relative: String
        /// OUT_DIR/name without the format's extension (`output` = `stem` + "." + format).
        public var stem: String
        public var output: String
        /// Set when an earlier item already maps to the same output (a repeated manifest line):
        /// this item is reported as failed instead of racing for the file.
        public var conflict: String?
        /// Why the file is not converted (not audio that audiodq reads exactly); nil: convert it.
        public var skip: String?
        /// Read with `--raw`: `.raw`/`.pcm` in a folder; in a manifest, every entry without a
        /// container's extension. Everything else is read by its header.
        public var headerless = false
    }

    public var items: [Item]

    /// True when `input` names a batch (a folder or a manifest) rather than one audio file.
    public static func isBatchInput(_ input: String) -> Bool {
        if FileSystem.isDirectory(input) { return true }
        let ext = FileSystem.pathExtension(input).lowercased()
        return ["txt", "lst", "list", "manifest", "m3u"].contains(ext)
    }

    public init(input: String, outputDir: String, format: ValueFormat, includeRaw: Bool = false) throws {
        var found: [(source: String, relative: String, skip: String?)] = []
        var headerless: (String) -> Bool = { _ in false }
        if FileSystem.isDirectory(input) {
            found = try BatchPlan.listFolder(input, outputDir: outputDir, includeRaw: includeRaw)
            headerless = { includeRaw && BatchPlan.rawExtensions.contains(FileSystem.pathExtension($0).lowercased()) }
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw AudioDQError.cannotRead(path: input, reason: FileSystem.exists(input) ? "cannot read manifest" : "no such file")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw AudioDQError.malformed(path: input, reason: "manifest is not UTF-8 text")
            }
            let base = (input as NSString).deletingLastPathComponent
            found = BatchPlan.parseManifest(text, base: base).map { ($0.source, $0.relative, nil) }
            headerless = { includeRaw && !AudioContainer.namesHeaderContainer(FileSystem.pathExtension($0)) }
        }
        found.sort { $0.relative < $1.relative }
        let outRoot = outputDir.hasSuffix("/") ? String(outputDir.dropLast()) : outputDir
        let keeping = BatchPlan.keepingExtension(Set(found.filter { $0.skip == nil }.map(\.relative)))
        // a skipped file (its name is only reported) keeps its extension when several inputs to
        // convert share its extensionless name
        var sharing: [String: Set<String>] = [:]
        for f in found where f.skip == nil { sharing[BatchPlan.dropExtension(f.relative), default: []].insert(f.relative) }
        var seen: [String: String] = [:]
        items = found.map { src, rel, skip in
            let bare = BatchPlan.dropExtension(rel)
            let kept = skip == nil ? keeping.contains(rel) : (sharing[bare]?.count ?? 0) > 1
            let stem = outRoot + "/" + (kept ? rel : bare)
            let output = stem + "." + format.rawValue
            var first: String?
            if skip == nil {
                first = seen[output]
                if first == nil { seen[output] = src }
            }
            return Item(source: src, relative: rel, stem: stem, output: output, conflict: first, skip: skip,
                        headerless: skip == nil && headerless(rel))
        }
    }

    /// The relative paths (of the inputs to convert) that keep their extension in the output's
    /// name. Every path starts without its extension; while a name is shared by several distinct
    /// paths, each of them that still drops its extension keeps it (and may meet another path's
    /// name: `a.wav` kept from `a.wav`+`a.au` meets `a.wav` dropped from `a.wav.flac`, which then
    /// keeps `.flac`). Ends with distinct names for distinct paths (a kept name is the whole
    /// path), depends on the set alone (not order, `--shard` or `--jobs`); a path listed twice
    /// stays one name, left to `Item.conflict`. Without collisions nothing is kept.
    static func keepingExtension(_ paths: Set<String>) -> Set<String> {
        var keep: Set<String> = []
        while true {
            var byName: [String: Set<String>] = [:]
            for p in paths { byName[name(p, keep), default: []].insert(p) }
            let grow = byName.values.filter { $0.count > 1 }.joined().filter { !keep.contains($0) }
            if grow.isEmpty { return keep }
            keep.formUnion(grow)
        }
    }

    /// `path` as named in the output tree: whole when in `keep`, else without its extension.
    static func name(_ path: String, _ keep: Set<String>) -> String {
        keep.contains(path) ? path : dropExtension(path)
    }

    /// Extensions of headerless files in a folder: converted with `--raw`, skipped without.
    static let rawExtensions: Set<String> = ["raw", "pcm"]

    /// "a/b.wav" → "a/b"; a name without an extension stays as it is.
    static func dropExtension(_ rel: String) -> String {
        let ext = FileSystem.pathExtension(rel)
        return ext.isEmpty ? rel : String(rel.dropLast(ext.count + 1))
    }

    /// Every regular, non-hidden file under `input` (not descending into hidden folders or the
    /// output folder), with the reason it is skipped, if it is.
    static func listFolder(_ input: String, outputDir: String, includeRaw: Bool) throws -> [(source: String, relative: String, skip: String?)] {
        let root = input.hasSuffix("/") ? String(input.dropLast()) : input
        guard let e = FileManager.default.enumerator(atPath: root) else {
            throw AudioDQError.cannotRead(path: input, reason: "cannot list folder")
        }
        let outReal = realPath(outputDir)
        var found: [(String, String, String?)] = []
        while let rel = e.nextObject() as? String {
            let name = rel.split(separator: "/").last.map(String.init) ?? rel
            let full = root + "/" + rel
            if FileSystem.isDirectory(full) {
                if name.hasPrefix(".") || (outReal != nil && realPath(full) == outReal) { e.skipDescendants() }
                continue
            }
            if name.hasPrefix(".") { continue }
            let ext = FileSystem.pathExtension(name).lowercased()
            var st = stat()
            if stat(full, &st) != 0 || (st.st_mode & S_IFMT) != S_IFREG {
                // a FIFO or device would block or never end; a dangling link has nothing to read
                found.append((full, rel, "\(full): not a regular file"))
            } else if AudioContainer.namesHeaderContainer(ext) {
                found.append((full, rel, nil))
            } else if BatchPlan.rawExtensions.contains(ext) {
                found.append((full, rel, includeRaw ? nil : "headerless RAW: give --raw encoding:rate:channels to convert it"))
            } else {
                found.append((full, rel, readableReason(full)))
            }
        }
        return found
    }

    /// nil when audiodq reads `path` exactly (by content, whatever its name), else why not.
    static func readableReason(_ path: String) -> String? {
        do {
            _ = try CodeReader.probe(path: path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
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
