import Testing
@testable import DiscreteAudio

@Suite struct CellDecoderTests {
    static let quantizers: [Quantizer] = [
        .container(.pcmU8), .container(.pcm16),
        try! .lattice(.pcm16, stepLog2: 4), try! .lattice(.pcm16, stepLog2: 8),
        try! .g711Linear(.ulaw, container: .ulaw), try! .g711Linear(.alaw, container: .alaw),
        try! .g711Linear(.ulaw, container: .pcm16), try! .g711Linear(.alaw, container: .pcm16),
        try! .g711Linear(.ulaw, container: .pcm24), try! .g711Linear(.alaw, container: .pcm24),
    ]

    /// Every cell's lower bound, the largest value of the type below its upper bound and a random
    /// interior point decode to the cell's stored code (both ranges, Float and Double, bulk and
    /// scalar); the upper bound itself decodes to the next cell's code.
    @Test(arguments: quantizers)
    func everyCellDecodesAtBothEndsAndInside(_ q: Quantizer) {
        for range in DequantRange.allCases {
            check(q, range, as: Float.self)
            check(q, range, as: Double.self)
        }
    }

    private func check<T: BinaryFloatingPoint>(_ q: Quantizer, _ range: DequantRange, as: T.Type) {
        let decoder = CellDecoder(quantizer: q, range: range)
        let s = q.scaleSize
        let image = { (t: Int) in T(Double(t + s / 2 + range.offset(binCount: s)) * range.scale(binCount: s)) }
        var values: [T] = [], expected: [UInt32] = []
        var rng: UInt64 = 99
        for j in 0..<q.cellCount {
            let (lo, hi) = q.cell(j)
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(rng >> 11) * 0x1p-53
            let inside: T = q.y(ofCell: j, u: u, range: range)
            let code = UInt32(q.bin(ofCell: j))
            values += [image(lo), image(hi).nextDown, inside]
            expected += [code, code, code]
            if j + 1 < q.cellCount {
                values.append(image(hi))
                expected.append(UInt32(q.bin(ofCell: j + 1)))
            }
        }
        var bins = [UInt32](repeating: .max, count: values.count)
        let bad = values.withUnsafeBufferPointer { v in
            bins.withUnsafeMutableBufferPointer { decode(decoder, v, $0) }
        }
        #expect(bad == nil, "\(q) \(range) \(T.self)")
        let wrong = zip(bins, expected).filter { $0 != $1 }.count
        #expect(wrong == 0, "\(q) \(range) \(T.self): \(wrong) values decoded to another code")
        let scalarWrong = zip(values, expected).filter { decoder.bin(of: Double($0)) != $1 }.count
        #expect(scalarWrong == 0)
    }

    private func decode<T: BinaryFloatingPoint>(_ d: CellDecoder, _ v: UnsafeBufferPointer<T>,
                                               _ out: UnsafeMutableBufferPointer<UInt32>) -> Int? {
        if let f = v as? UnsafeBufferPointer<Float> { return d.decode(f, firstIndex: 0, into: out) }
        return d.decode(v as! UnsafeBufferPointer<Double>, firstIndex: 0, into: out)
    }

    /// The decoder agrees with `Quantizer.cell(ofY:)` + `bin(ofCell:)` on every integer point of
    /// the 16-bit scale and on the points halfway between.
    @Test(arguments: quantizers.filter { $0.scaleSize == 65536 })
    func agreesWithTheQuantizerOnEveryPoint(_ q: Quantizer) {
        for range in DequantRange.allCases {
            let decoder = CellDecoder(quantizer: q, range: range)
            var mismatches = 0
            for p in 0..<(2 * 65536) {
                let y = (Double(p) / 2 + Double(range.offset(binCount: 65536))) * range.scale(binCount: 65536)
                let reference = q.cell(ofY: y, range: range).map { UInt32(q.bin(ofCell: $0)) }
                if decoder.bin(of: y) != reference { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(q) \(range)")
        }
    }

    /// Values that are not finite or outside the range stop decoding at their index (offset by
    /// firstIndex); the values before are decoded.
    @Test(arguments: DequantRange.allCases)
    func nonDecodableValuesAreReportedByIndex(_ range: DequantRange) throws {
        let decoder = CellDecoder(quantizer: try .g711Linear(.ulaw, container: .pcm16), range: range)
        let lowest = range.lowerBound
        let cases: [Double] = [.nan, .infinity, -.infinity, 1, 1.5, lowest.nextDown, -2]
        for bad in cases {
            let values = [lowest, 0.75, bad, 0.5]
            var bins = [UInt32](repeating: .max, count: 4)
            let at = values.withUnsafeBufferPointer { v in
                bins.withUnsafeMutableBufferPointer { decoder.decode(v, firstIndex: 1000, into: $0) }
            }
            #expect(at == 1002, "\(bad)")
            #expect(bins[0] == UInt32(32768 - 32124) && bins[1] != .max && bins[2] == .max)
            // Float(lowest.nextDown) would round back onto the range: take the Float below it.
            var floats = values.map { Float($0) }
            if bad == lowest.nextDown { floats[2] = Float(lowest).nextDown }
            let atF = floats.withUnsafeBufferPointer { v in
                bins.withUnsafeMutableBufferPointer { decoder.decode(v, firstIndex: 7, into: $0) }
            }
            #expect(atF == 9, "\(bad) as Float")
        }
        // The largest value below 1 is the top cell's; the lowest value of the range the bottom cell's.
        #expect(decoder.bin(of: 1.0.nextDown) == UInt32(32768 + 32124))
        #expect(decoder.bin(of: lowest) == UInt32(32768 - 32124))
    }
}
