import Crypto

/// Streaming SHA-256 (FIPS 180-4) with a hex digest: the source hash of sidecars and manifests.
/// Backed by swift-crypto (BoringSSL's assembly, GB/s), so hashing a source never limits
/// conversion speed.
public struct SourceHash {
    private var sha = Crypto.SHA256()

    public init() {}

    public mutating func update(_ data: UnsafeRawBufferPointer) { sha.update(bufferPointer: data) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits.
    public func finalizeHex() -> String {
        let hex: [Character] = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(64)
        for b in sha.finalize() {
            s.append(hex[Int(b >> 4)])
            s.append(hex[Int(b & 15)])
        }
        return s
    }
}
