/// CRC-32 (IEEE 802.3 / zlib / PNG): reflected polynomial 0xEDB88320, initial value and final
/// XOR 0xFFFFFFFF. Check value: CRC32("123456789") = 0xCBF43926.
public struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
        return c
    }

    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// Feeds more bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var c = state
        Self.table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        state = c
    }

    /// Checksum of everything fed so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }

    /// One-shot checksum of a byte sequence.
    public static func checksum<S: Sequence>(_ bytes: S) -> UInt32 where S.Element == UInt8 {
        var crc = CRC32()
        let a = Array(bytes)
        a.withUnsafeBytes { crc.update($0) }
        return crc.value
    }
}
