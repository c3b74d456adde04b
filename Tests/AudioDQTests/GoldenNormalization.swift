import Foundation

/// Byte-level normalisation of outputs before they are hashed: it removes what is not the same
/// from release to release and keeps every other byte.
enum GoldenNormalization {
    /// Removes keys from a sidecar's text, so that a hash of the result still sees formatting, key
    /// order and number spelling.
    ///
    /// Sidecars are written by `JSONEncoder` with `.prettyPrinted` and `.sortedKeys`: one key per
    /// line, `"key" : value`, two spaces of indentation per level, a nested object or array
    /// opening at the end of its key's line and closing on a line of its own at the key's
    /// indentation. A removed key takes its whole value with it; when it was the last key of its
    /// object, the comma that ended the previous line goes too, so the result is the text the
    /// encoder would have written without that key. `paths`: dot-separated keys from the top-level object, e.g.
    /// "version", "dequantization.logQTotalNats".
    static func removing(_ paths: Set<String>, from data: Data) -> Data {
        guard !paths.isEmpty else { return data }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var kept: [Substring] = []
        var keyAtDepth: [Int: String] = [:]
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let indent = line.prefix { $0 == " " }.count
            let depth = indent / 2
            guard let key = key(of: line) else {
                kept.append(line)
                i += 1
                continue
            }
            keyAtDepth[depth] = key
            let path = (1..<max(1, depth)).compactMap { keyAtDepth[$0] } + [key]
            guard paths.contains(path.joined(separator: ".")) else {
                kept.append(line)
                i += 1
                continue
            }
            // skip the key's lines: one, or up to the bracket that closes its value
            var last = line
            if line.hasSuffix("{") || line.hasSuffix("[") {
                repeat {
                    i += 1
                    last = lines[i]
                } while !(last.prefix { $0 == " " }.count == indent
                          && (last.dropFirst(indent).hasPrefix("}") || last.dropFirst(indent).hasPrefix("]")))
            }
            i += 1
            if !last.hasSuffix(","), let prev = kept.last, prev.hasSuffix(",") {
                kept[kept.count - 1] = prev.dropLast()
            }
        }
        return Data(kept.joined(separator: "\n").utf8)
    }

    /// The key of a `"key" : value` line (keys in sidecars hold no escapes).
    private static func key(of line: Substring) -> String? {
        let t = line.drop { $0 == " " }
        guard t.first == "\"", let end = t.dropFirst().firstIndex(of: "\""),
              t[t.index(after: end)...].hasPrefix(" : ") else { return nil }
        return String(t[t.index(after: t.startIndex)..<end])
    }
}
