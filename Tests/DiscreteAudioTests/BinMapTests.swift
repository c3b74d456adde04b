import Testing
@testable import DiscreteAudio

@Suite struct BinMapTests {
    @Test(arguments: SampleEncoding.allCases.filter { $0.bits == 8 })
    func eightBitMapsAreBijective(_ encoding: SampleEncoding) {
        let map = BinMap(encoding)
        var seen = Set<Int>()
        for b in 0..<256 {
            let bin = map.bin(stored: b)
            #expect((0..<256).contains(bin))
            #expect(map.stored(bin: bin) == b)
            seen.insert(bin)
        }
        #expect(seen.count == 256)
    }

    @Test(arguments: SampleEncoding.allCases)
    func amplitudeRisesWithBin(_ encoding: SampleEncoding) {
        let map = BinMap(encoding)
        let k = encoding.binCount
        let step = max(1, k / 65536)
        var previous = -Double.infinity
        for bin in stride(from: 0, to: k, by: step) {
            let a = map.amplitude(bin: bin)
            // mu-law's two zero codes decode to the same level; everything else strictly rises.
            if encoding == .ulaw && bin == 128 { #expect(a == previous) } else { #expect(a > previous) }
            previous = a
        }
    }

    @Test func g711TablesMatchKnownValues() {
        // Sun/libsndfile tables: mu-law 0x00 is the most negative level, 0xFF and 0x7F are zero.
        #expect(G711.muLawLinear(0x00) == -32124)
        #expect(G711.muLawLinear(0x80) == 32124)
        #expect(G711.muLawLinear(0xFF) == 0 && G711.muLawLinear(0x7F) == 0)
        #expect(G711.aLawLinear(0xD5) == 8 && G711.aLawLinear(0x55) == -8)
        #expect(G711.aLawLinear(0xAA) == 32256 && G711.aLawLinear(0x2A) == -32256)
        #expect(G711.muLawBin(0x7F) == 127 && G711.muLawBin(0xFF) == 128)
    }

    @Test func pcmMapsOffsetByHalfRange() {
        #expect(BinMap(.pcm16).bin(stored: -32768) == 0)
        #expect(BinMap(.pcm16).bin(stored: 32767) == 65535)
        #expect(BinMap(.pcm24).bin(stored: -(1 << 23)) == 0)
        #expect(BinMap(.pcmS8).bin(stored: 0x80) == 0)   // byte 0x80 = -128
        #expect(BinMap(.pcmU8).bin(stored: 0x80) == 128)
    }
}

@Suite struct DequantRangeTests {
    @Test(arguments: DequantRange.allCases)
    func decodeIsExactAtBinEdges(_ range: DequantRange) {
        for k in [256, 65536, 1 << 24] {
            for x in [0, 1, k / 2 - 1, k / 2, k - 2, k - 1] {
                let lo = range.scale(binCount: k) * Double(x + range.offset(binCount: k))
                let hi = range.scale(binCount: k) * Double(x + 1 + range.offset(binCount: k))
                #expect(range.bin(of: lo, binCount: k) == x)
                #expect(range.bin(of: hi.nextDown, binCount: k) == x)
                if x < k - 1 { #expect(range.bin(of: hi, binCount: k) == x + 1) }
                #expect(range.position(of: lo, bin: x, binCount: k) == 0)
            }
        }
    }

    @Test func outOfRangeAndNonFiniteDoNotDecode() {
        #expect(DequantRange.unit.bin(of: 1.0, binCount: 256) == nil)
        #expect(DequantRange.unit.bin(of: -1e-30, binCount: 256) == nil)
        #expect(DequantRange.symmetric.bin(of: -1.0, binCount: 256) == 0)
        #expect(DequantRange.symmetric.bin(of: (-1.0).nextDown, binCount: 256) == nil)
        #expect(DequantRange.unit.bin(of: .nan, binCount: 256) == nil)
        #expect(DequantRange.symmetric.bin(of: .infinity, binCount: 256) == nil)
    }

    @Test func encodingNamesParse() {
        for e in SampleEncoding.allCases { #expect(SampleEncoding(name: e.rawValue) == e) }
        #expect(SampleEncoding(name: "s16") == .pcm16)
        #expect(SampleEncoding(name: "mp3") == nil)
    }
}
