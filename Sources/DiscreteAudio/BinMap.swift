/// Stored code ↔ bin index maps for every `SampleEncoding`, and the amplitude each bin stands for.
///
/// "Stored code" means the integer a file holds: the byte for 8-bit and G.711 encodings, the signed
/// integer for 16/24-bit PCM. `bin(stored:)` and `stored(bin:)` are inverse bijections between the
/// encoding's stored range and 0..<K.
public struct BinMap: Sendable {
    public let encoding: SampleEncoding
    /// Byte → bin for the 8-bit encodings (empty for 16/24-bit).
    public let byteToBin: [UInt16]
    /// Bin → byte for the 8-bit encodings (empty for 16/24-bit).
    public let binToByte: [UInt8]

    public init(_ encoding: SampleEncoding) {
        self.encoding = encoding
        if encoding.bits == 8 {
            var fwd = [UInt16](repeating: 0, count: 256)
            var inv = [UInt8](repeating: 0, count: 256)
            for b in 0..<256 {
                let bin = BinMap.bin8(encoding, UInt8(b))
                fwd[b] = UInt16(bin)
                inv[bin] = UInt8(b)
            }
            byteToBin = fwd
            binToByte = inv
        } else {
            byteToBin = []
            binToByte = []
        }
    }

    @inline(__always)
    static func bin8(_ e: SampleEncoding, _ b: UInt8) -> Int {
        switch e {
        case .ulaw: return G711.muLawBin(b)
        case .alaw: return G711.aLawBin(b)
        case .pcmU8: return Int(b)
        case .pcmS8: return Int(Int8(bitPattern: b)) + 128
        case .pcm16, .pcm24: preconditionFailure("not an 8-bit encoding")
        }
    }

    /// Bin index of a stored code. For 8-bit encodings `stored` is the byte (0...255); for PCM
    /// 16/24-bit it is the signed sample value. Precondition: `stored` is in the encoding's range.
    @inlinable
    public func bin(stored: Int) -> Int {
        switch encoding {
        case .pcm16: return stored + 32768
        case .pcm24: return stored + (1 << 23)
        default: return Int(byteToBin[stored & 0xFF])
        }
    }

    /// Stored code of a bin index (inverse of `bin(stored:)`). Precondition: 0 ≤ bin < K.
    @inlinable
    public func stored(bin: Int) -> Int {
        switch encoding {
        case .pcm16: return bin - 32768
        case .pcm24: return bin - (1 << 23)
        default: return Int(binToByte[bin])
        }
    }

    /// The amplitude a bin stands for, full scale 1 (16-bit scale / 32768 for G.711 and 8/16-bit,
    /// 2^23 for 24-bit). Used to relate noise to the signal, never to dequantize.
    public func amplitude(bin: Int) -> Double {
        switch encoding {
        case .ulaw: return Double(G711.muLawLinear(binToByte[bin])) / 32768
        case .alaw: return Double(G711.aLawLinear(binToByte[bin])) / 32768
        case .pcmU8, .pcmS8: return Double(bin - 128) / 128
        case .pcm16: return Double(bin - 32768) / 32768
        case .pcm24: return Double(bin - (1 << 23)) / 8_388_608
        }
    }
}
