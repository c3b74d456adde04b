/// A deterministic share of a corpus: shard `index` of `count` (0 ≤ index < count) takes the files
/// whose FNV-1a 64 hash of the relative path, modulo `count`, equals `index`.
///
/// The assignment depends only on the relative path: it is the same whatever `--jobs`, order or
/// the other files, and the shards 0..<count partition the corpus.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        precondition(count > 0 && index >= 0 && index < count)
        self.index = index
        self.count = count
    }

    /// Parses "I/N" with 0 ≤ I < N.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    public func contains(relativePath: String) -> Bool {
        Int(NoiseKey.fnv1a64(relativePath) % UInt64(count)) == index
    }

    /// "I-of-N", used in manifest names.
    public var description: String { "\(index)-of-\(count)" }
}
