/// G.711 byte ↔ amplitude-ordered bin maps and the classic linear decoding.
///
/// The maps are bijections on 0...255 and match libsndfile's (Sun) G.711 tables: decoding the
/// bytes in bin order gives a non-decreasing sequence of linear values. μ-law keeps both zero codes
/// (0x7F = "−0" → bin 127, 0xFF = "+0" → bin 128) as separate bins.
public enum G711 {
    /// μ-law byte → bin: b < 128 ? b : 383 − b. The formula is its own inverse on 0...255.
    @inlinable public static func muLawBin(_ byte: UInt8) -> Int {
        byte < 128 ? Int(byte) : 383 - Int(byte)
    }

    /// bin → μ-law byte (inverse of `muLawBin`).
    @inlinable public static func muLawByte(_ bin: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: bin < 128 ? bin : 383 - bin)
    }

    /// A-law byte → bin: a = b ^ 0x55; a & 0x80 ? 128 + (a & 0x7F) : 127 − (a & 0x7F).
    @inlinable public static func aLawBin(_ byte: UInt8) -> Int {
        let a = Int(byte ^ 0x55)
        return a & 0x80 != 0 ? 128 + (a & 0x7F) : 127 - (a & 0x7F)
    }

    /// bin → A-law byte (inverse of `aLawBin`).
    @inlinable public static func aLawByte(_ bin: Int) -> UInt8 {
        let a = bin >= 128 ? (0x80 | (bin - 128)) : (127 - bin)
        return UInt8(truncatingIfNeeded: a) ^ 0x55
    }

    /// Linear value of a μ-law byte on the 16-bit scale (|v| ≤ 32124), as the Sun tables decode it:
    /// u = ~b; t = ((u & 0x0F) << 3 + 0x84) << ((u & 0x70) >> 4); v = sign ? 0x84 − t : t − 0x84.
    public static func muLawLinear(_ byte: UInt8) -> Int {
        let u = Int(~byte)
        let t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
        return u & 0x80 != 0 ? 0x84 - t : t - 0x84
    }

    /// Linear value of an A-law byte on the 16-bit scale (8 ≤ |v| ≤ 32256; A-law has no zero).
    public static func aLawLinear(_ byte: UInt8) -> Int {
        let a = Int(byte ^ 0x55)
        var t = (a & 0x0F) << 4
        let seg = (a & 0x70) >> 4
        switch seg {
        case 0: t += 8
        case 1: t += 0x108
        default: t = (t + 0x108) << (seg - 1)
        }
        return a & 0x80 != 0 ? t : -t
    }
}
