import Testing
import DiscreteAudio
@testable import Dequantization

/// Runs both dequantizers' Float or Double entry point on the same buffers.
private func cellValues<T: BinaryFloatingPoint>(_ d: CellDequantizer, _ bins: [UInt32], first: Int, as: T.Type) -> ([T], Int?) {
    var out = [T](repeating: 0, count: bins.count)
    let bad = bins.withUnsafeBufferPointer { b in
        out.withUnsafeMutableBufferPointer { o -> Int? in
            if T.self == Float.self {
                return d.dequantize(bins: b, firstIndex: first, into: UnsafeMutableRawBufferPointer(o).bindMemory(to: Float.self))
            }
            return d.dequantize(bins: b, firstIndex: first, into: UnsafeMutableRawBufferPointer(o).bindMemory(to: Double.self))
        }
    }
    return (out, bad)
}

private func uniformValues<T: BinaryFloatingPoint>(_ d: UniformDequantizer, _ bins: [UInt32], first: Int, as: T.Type) -> [T] {
    var out = [T](repeating: 0, count: bins.count)
    bins.withUnsafeBufferPointer { b in
        out.withUnsafeMutableBufferPointer { o in
            if T.self == Float.self {
                d.dequantize(bins: b, firstIndex: first, into: UnsafeMutableRawBufferPointer(o).bindMemory(to: Float.self))
            } else {
                d.dequantize(bins: b, firstIndex: first, into: UnsafeMutableRawBufferPointer(o).bindMemory(to: Double.self))
            }
        }
    }
    return out
}

private func sameBits<T: BinaryFloatingPoint>(_ a: [T], _ b: [T]) -> Int {
    zip(a, b).filter { Double($0).bitPattern != Double($1).bitPattern }.count
}

@Suite struct CellDequantizerTests {
    static let key = NoiseKey(seed: 42, name: "cells.wav")

    /// `container` cells give exactly UniformDequantizer's bits: every 8- and 16-bit code (each
    /// three times, so u varies), both ranges, Float and Double, from an even and an odd first index.
    @Test(arguments: [SampleEncoding.pcmU8, .ulaw, .pcm16], DequantRange.allCases)
    func containerCellsAreBitIdenticalToUniform(_ e: SampleEncoding, _ range: DequantRange) {
        let k = e.binCount
        let bins = (0..<(3 * k)).map { UInt32($0 % k) }
        let cells = CellDequantizer(quantizer: .container(e), range: range, key: Self.key)
        let uniform = UniformDequantizer(binCount: k, range: range, key: Self.key)
        for first in [0, 12_345] {
            let (f, badF) = cellValues(cells, bins, first: first, as: Float.self)
            let (d, badD) = cellValues(cells, bins, first: first, as: Double.self)
            #expect(badF == nil && badD == nil)
            #expect(sameBits(f, uniformValues(uniform, bins, first: first, as: Float.self)) == 0, "\(e) \(range) Float")
            #expect(sameBits(d, uniformValues(uniform, bins, first: first, as: Double.self)) == 0, "\(e) \(range) Double")
        }
    }

    /// 24-bit `container` cells, Double: a random sample of codes, bit-identical to uniform.
    @Test(arguments: DequantRange.allCases)
    func container24BitDoubleIsBitIdenticalToUniform(_ range: DequantRange) {
        var s: UInt64 = 7
        let bins = (0..<200_000).map { _ -> UInt32 in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(s >> 40)
        }
        let cells = CellDequantizer(quantizer: .container(.pcm24), range: range, key: Self.key)
        let uniform = UniformDequantizer(binCount: 1 << 24, range: range, key: Self.key)
        let (d, bad) = cellValues(cells, bins, first: 3, as: Double.self)
        #expect(bad == nil)
        #expect(sameBits(d, uniformValues(uniform, bins, first: 3, as: Double.self)) == 0)
    }

    static let quantizers: [Quantizer] = [
        try! .lattice(.pcm16, stepLog2: 4), try! .lattice(.pcm16, stepLog2: 8), try! .lattice(.pcmU8, stepLog2: 3),
        try! .lattice(.pcm24, stepLog2: 8),
        try! .g711Linear(.ulaw, container: .ulaw), try! .g711Linear(.alaw, container: .alaw),
        try! .g711Linear(.ulaw, container: .pcm16), try! .g711Linear(.alaw, container: .pcm16),
        try! .g711Linear(.ulaw, container: .pcm24), try! .g711Linear(.alaw, container: .pcm24),
    ]

    /// Every cell (each code 8 times, so u varies; a 24-bit lattice: a sample of cells), both
    /// ranges: the values equal `Quantizer.y(ofCell:u:range:as:)` with the stated u variant
    /// (Float: uniform24 · 2⁻²⁴, Double: uniform) bit for bit, and decode back to the stored code.
    @Test(arguments: quantizers)
    func valuesAreTheQuantizersPointsAndDecodeToTheCode(_ q: Quantizer) {
        let cells = q.cellCount > 4096 ? Array(stride(from: 0, to: q.cellCount, by: 61)) + [q.cellCount - 1]
                                       : Array(0..<q.cellCount)
        let bins = (0..<8).flatMap { _ in cells.map { UInt32(q.bin(ofCell: $0)) } }
        let rng = CounterRNG(key: Self.key)
        let first = 1001
        for range in DequantRange.allCases {
            let d = CellDequantizer(quantizer: q, range: range, key: Self.key)
            let (f, badF) = cellValues(d, bins, first: first, as: Float.self)
            let (x, badD) = cellValues(d, bins, first: first, as: Double.self)
            #expect(badF == nil && badD == nil)
            var wrongF = 0, wrongD = 0, undecodable = 0
            for (i, bin) in bins.enumerated() {
                let j = q.cell(ofBin: Int(bin))!
                let index = UInt64(first + i)
                let rf: Float = q.y(ofCell: j, u: Double(rng.uniform24(index)) * 0x1p-24, range: range)
                let rd: Double = q.y(ofCell: j, u: rng.uniform(index), range: range)
                if f[i].bitPattern != rf.bitPattern { wrongF += 1 }
                if x[i].bitPattern != rd.bitPattern { wrongD += 1 }
                for y in [Double(f[i]), x[i]] {
                    guard let c = q.cell(ofY: y, range: range), q.bin(ofCell: c) == Int(bin) else { undecodable += 1; continue }
                }
            }
            #expect(wrongF == 0 && wrongD == 0, "\(q) \(range): \(wrongF) Float, \(wrongD) Double values differ")
            #expect(undecodable == 0, "\(q) \(range)")
        }
    }

    /// Given positions (learned noise, `place`) go through the same mapping as drawn ones: for
    /// every cell, both ranges, u at the ends of [0, 1] and in between (subnormal, below 2⁻²⁴, the
    /// float just below 1, 1 itself): Float output = `Quantizer.y` at u24(u)·2⁻²⁴, Double output =
    /// `Quantizer.y` at u, bit for bit, inside the cell; u < 0 and NaN give the cell's lower end in
    /// Float. And positions equal to the generator's 24-bit draws give `dequantize`'s own bits.
    @Test(arguments: quantizers.filter { $0.cellCount <= 4096 })
    func givenPositionsArePlacedAsDrawnOnes(_ q: Quantizer) {
        let cells = Array(0..<q.cellCount)
        let positions: [Float] = [0, .leastNonzeroMagnitude, 1e-30, 0x1p-26, 0x1p-25 * 3, 0.25, 0.5, 0.7, 1 - 0x1p-24, 1]
        let bins = positions.flatMap { _ in cells.map { UInt32(q.bin(ofCell: $0)) } }
        let u = positions.flatMap { p in cells.map { _ in p } }
        let rng = CounterRNG(key: Self.key)
        let drawn = (0..<bins.count).map { Float(rng.uniform24(UInt64(100 + $0))) * 0x1p-24 }
        for range in DequantRange.allCases {
            let d = CellDequantizer(quantizer: q, range: range, key: Self.key)
            var f = [Float](repeating: 0, count: bins.count), x = [Double](repeating: 0, count: bins.count)
            #expect(d.place(bins: bins.withUnsafeBufferPointer { $0 }, u: u, into: f.withUnsafeMutableBufferPointer { $0 }) == nil)
            #expect(d.place(bins: bins.withUnsafeBufferPointer { $0 }, u: u, into: x.withUnsafeMutableBufferPointer { $0 }) == nil)
            var wrong = 0, escaped = 0
            for i in bins.indices {
                let j = q.cell(ofBin: Int(bins[i]))!
                let rf: Float = q.y(ofCell: j, u: Double(CellDequantizer.u24(u[i])) * 0x1p-24, range: range)
                let rd: Double = q.y(ofCell: j, u: Double(u[i]), range: range)
                if f[i].bitPattern != rf.bitPattern || x[i].bitPattern != rd.bitPattern { wrong += 1 }
                if q.cell(ofY: Double(f[i]), range: range) != j || q.cell(ofY: x[i], range: range) != j { escaped += 1 }
            }
            #expect(wrong == 0 && escaped == 0, "\(q) \(range): \(wrong) differ, \(escaped) outside their cell")
            var low = [Float](repeating: 0, count: 2), lowest = low
            let two = Array(bins.prefix(2))
            _ = d.place(bins: two.withUnsafeBufferPointer { $0 }, u: [-0.25, .nan], into: low.withUnsafeMutableBufferPointer { $0 })
            _ = d.place(bins: two.withUnsafeBufferPointer { $0 }, u: [0, 0], into: lowest.withUnsafeMutableBufferPointer { $0 })
            #expect(low == lowest)
            var placed = [Float](repeating: 0, count: bins.count)
            _ = d.place(bins: bins.withUnsafeBufferPointer { $0 }, u: drawn, into: placed.withUnsafeMutableBufferPointer { $0 })
            let (own, _) = cellValues(d, bins, first: 100, as: Float.self)
            #expect(sameBits(placed, own) == 0, "\(q) \(range)")
        }
    }

    /// The G.711 placement's guard: u = 1 and u just below 1 stay inside every cell, in Float and
    /// Double, both ranges; the entry for codes without a cell gives NaN.
    @Test(arguments: [try! Quantizer.g711Linear(.ulaw, container: .ulaw), try! .g711Linear(.ulaw, container: .pcm24),
                      try! .g711Linear(.alaw, container: .pcm16)])
    func placementGuardKeepsEveryCell(_ q: Quantizer) {
        var escaped = 0, guarded = 0
        for range in DequantRange.allCases {
            let d = CellDequantizer(quantizer: q, range: range, key: Self.key)
            for j in 0..<q.cellCount {
                for (u, u24) in [(1.0, UInt32(1 << 24)), (1.0.nextDown, 0xFF_FFFF), (1 - 0x1p-24, 0xFF_FFFF), (0, 0)] {
                    let f = d.cellsF[j].place(u24), x = d.cellsD[j].place(u)
                    if q.cell(ofY: Double(f), range: range) != j || q.cell(ofY: x, range: range) != j { escaped += 1 }
                    if x == d.cellsD[j].upper.nextDown { guarded += 1 }
                    if f == d.cellsF[j].upper.nextDown { guarded += 1 }
                }
            }
            let off = CellLookup.offCell
            #expect(d.cellsF[off].place(1 << 23).isNaN && d.cellsD[off].place(0.5).isNaN)
        }
        #expect(escaped == 0)
        #expect(guarded >= 4 * q.cellCount)   // u = 1 always needs the guard: both types, both ranges
    }

    /// The float64 loop's placement from the draw's 53-bit integer k (`DoubleCell.place(bits:)`)
    /// equals `place`(k·2⁻⁵³) bit for bit, and keeps the guard: k = 2⁵³ − 1 (u = 1 − 2⁻⁵³, which
    /// rounds onto the top of many cells) stays inside every cell.
    @Test(arguments: [try! Quantizer.g711Linear(.ulaw, container: .ulaw), try! .g711Linear(.alaw, container: .pcm16),
                      try! .g711Linear(.ulaw, container: .pcm24)])
    func doublePlacementFromBitsEqualsPlacementFromU(_ q: Quantizer) {
        var differ = 0, escaped = 0, guarded = 0
        var s: UInt64 = 99
        for range in DequantRange.allCases {
            let d = CellDequantizer(quantizer: q, range: range, key: Self.key)
            for j in 0..<q.cellCount {
                var ks: [UInt64] = [0, 1, (1 << 53) - 1, (1 << 52)]
                for _ in 0..<16 { s = s &* 6364136223846793005 &+ 1442695040888963407; ks.append(s >> 11) }
                for k in ks {
                    let y = d.cellsD[j].place(bits: k)
                    if y.bitPattern != d.cellsD[j].place(Double(k) * 0x1p-53).bitPattern { differ += 1 }
                    if q.cell(ofY: y, range: range) != j { escaped += 1 }
                    if k == (1 << 53) - 1 && y == d.cellsD[j].upper.nextDown { guarded += 1 }
                }
            }
        }
        #expect(differ == 0 && escaped == 0)
        #expect(guarded > 0)   // the top draw does reach the guard
    }

    /// Codes without a cell are never placed into another cell: their values are NaN and the first
    /// one's index is returned (here in the second 2048-sample block); the others are unaffected.
    @Test func offQuantizerCodesAreNaNAndReported() throws {
        let cases: [(Quantizer, UInt32)] = [
            (try .lattice(.pcm16, stepLog2: 8), 32768 + 1),          // off the lattice
            (try .g711Linear(.ulaw, container: .pcm16), 32768 + 4),  // not a μ-law level
            (try .g711Linear(.alaw, container: .pcm24), 1 << 23 | 8), // not a multiple of m = 256
            (.container(.pcm16), 65536),                              // above the container
            (try .g711Linear(.ulaw, container: .ulaw), 256),
        ]
        for (q, badBin) in cases {
            var bins = (0..<3000).map { UInt32(q.bin(ofCell: $0 % q.cellCount)) }
            let clean = bins
            bins[2500] = badBin
            bins[2900] = badBin
            for range in DequantRange.allCases {
                let d = CellDequantizer(quantizer: q, range: range, key: Self.key)
                let (x, badD) = cellValues(d, bins, first: 10, as: Double.self)
                let (reference, _) = cellValues(d, clean, first: 10, as: Double.self)
                #expect(badD == 2510, "\(q)")
                #expect(x[2500].isNaN && x[2900].isNaN)
                #expect(sameBits(Array(x[0..<2500]) + Array(x[2501..<2900]), Array(reference[0..<2500]) + Array(reference[2501..<2900])) == 0)
                let (f, badF) = cellValues(d, bins, first: 10, as: Float.self)
                #expect(badF == 2510 && f[2500].isNaN && f[2900].isNaN && !f[2499].isNaN)
            }
        }
    }

    /// The values depend on the sample index only: dequantizing in pieces of odd sizes at odd
    /// offsets gives the same bits as one call.
    @Test(arguments: [Quantizer.container(.pcm16), try! .lattice(.pcm16, stepLog2: 8), try! .g711Linear(.ulaw, container: .pcm16)])
    func chunkingDoesNotChangeTheValues(_ q: Quantizer) {
        let bins = (0..<10_000).map { UInt32(q.bin(ofCell: ($0 * 7919) % q.cellCount)) }
        let d = CellDequantizer(quantizer: q, range: .symmetric, key: Self.key)
        let (wholeF, _) = cellValues(d, bins, first: 5, as: Float.self)
        let (wholeD, _) = cellValues(d, bins, first: 5, as: Double.self)
        var pieceF: [Float] = [], pieceD: [Double] = []
        var start = 0, size = 1
        while start < bins.count {
            let end = min(bins.count, start + size)
            let part = Array(bins[start..<end])
            pieceF += cellValues(d, part, first: 5 + start, as: Float.self).0
            pieceD += cellValues(d, part, first: 5 + start, as: Double.self).0
            start = end
            size = size * 3 + 2
        }
        #expect(sameBits(wholeF, pieceF) == 0 && sameBits(wholeD, pieceD) == 0)
    }

    /// The bulk draws equal the per-index ones for every start parity and length.
    @Test func bulkDrawsEqualPerIndexDraws() {
        let rng = CounterRNG(key: Self.key)
        for first: UInt64 in [0, 1, 2, 77, 1 << 40 | 1] {
            for n in [0, 1, 2, 3, 4, 9, 64] {
                var u24 = [UInt32](repeating: 0, count: n)
                var u = [Double](repeating: 0, count: n)
                u24.withUnsafeMutableBufferPointer { rng.fillUniform24(first: first, into: $0) }
                u.withUnsafeMutableBufferPointer { rng.fillUniform(first: first, into: $0) }
                #expect(u24 == (0..<n).map { rng.uniform24(first + UInt64($0)) })
                #expect(u == (0..<n).map { rng.uniform(first + UInt64($0)) })
            }
        }
    }

    /// The G.711 fast path against a plain per-sample computation written from `G711Cells`'
    /// bounds (not the dequantizer's tables): every code of μ-law and A-law, in the law's bytes
    /// and in 16- and 24-bit PCM, 160 times each in a scrambled order (so u varies and the
    /// stream is long enough to be sliced over two threads), streamed as one block from an even
    /// and an odd first index, both ranges, float32 and float64. Reference, with the cell
    /// [lo, hi) of the code on the scale S (μ-law's two zero codes merged in PCM), b = lo + S/2 +
    /// offset and w = hi − lo: float32 y = Float(b·2²⁴ + u24·w) (an exact integer, one rounding)
    /// · scale·2⁻²⁴; float64 y = b·scale + u·(w·scale); either moved to the largest value below
    /// the image of hi when it reached it. Every value equals the reference bit for bit and lies
    /// in its code's cell.
    @Test(arguments: [SampleEncoding.ulaw, .alaw], [SampleEncoding.ulaw, .pcm16, .pcm24])
    func g711FastPathEqualsThePerSampleReference(_ law: SampleEncoding, _ container: SampleEncoding) throws {
        let container = container == .ulaw ? law : container
        let q = try Quantizer.g711Linear(law, container: container)
        let cells = G711Cells.of(law)
        let k = container.binCount, s = q.scaleSize, m = container.isLinear ? k / 65536 : 1
        // the stored codes: each byte, or each level m·v + K/2 of the law in PCM
        let codes = container.isLinear ? Set(cells.levels.map { Int($0) * m + k / 2 }).sorted() : Array(0..<256)
        #expect(codes.count == q.cellCount)
        func bounds(_ bin: Int) -> (Int, Int) {
            guard container.isLinear else { return (Int(cells.bounds[bin]), Int(cells.bounds[bin + 1])) }
            let g = Int(cells.binOfValue[(bin - k / 2) / m + 32768])
            if law == .ulaw && (bin - k / 2) == 0 { return (m * Int(cells.bounds[127]), m * Int(cells.bounds[129])) }
            return (m * Int(cells.bounds[g]), m * Int(cells.bounds[g + 1]))
        }
        let n = 160 * codes.count
        let bins = (0..<n).map { UInt32(codes[($0 &* 7919 &+ $0 / codes.count) % codes.count]) }
        let rng = CounterRNG(key: Self.key)
        for range in DequantRange.allCases {
            var d = CellDequantizer(quantizer: q, range: range, key: Self.key)
            d.threads = 2
            let scale = range.scale(binCount: s), offset = range.offset(binCount: s)
            for first in [0, 4097] {
                let layout = StreamLayout(frames: first + n, channels: 1)
                let block = DequantizationBlock(frames: first..<(first + n), codeFrames: first..<(first + n), layout: layout)
                var f = [Float](repeating: 0, count: n), x = [Double](repeating: 0, count: n)
                try bins.withUnsafeBufferPointer { b in
                    try f.withUnsafeMutableBufferPointer { try d.dequantize(block, codes: b, into: $0, logQ: nil) }
                    try x.withUnsafeMutableBufferPointer { try d.dequantize(block, codes: b, into: $0, logQ: nil) }
                }
                var wrongF = 0, wrongD = 0, outside = 0
                for i in 0..<n {
                    let (lo, hi) = bounds(Int(bins[i]))
                    let b = lo + s / 2 + offset, w = hi - lo, index = UInt64(first + i)
                    let topF = Float(Double(b + w) * scale), topD = Double(b + w) * scale
                    var rf = Float(b * (1 << 24) + Int(rng.uniform24(index)) * w) * Float(scale * 0x1p-24)
                    if rf >= topF { rf = topF.nextDown }
                    var rd = Double(b) * scale + rng.uniform(index) * (Double(w) * scale)
                    if rd >= topD { rd = topD.nextDown }
                    if f[i].bitPattern != rf.bitPattern { wrongF += 1 }
                    if x[i].bitPattern != rd.bitPattern { wrongD += 1 }
                    for y in [Double(f[i]), x[i]] {
                        guard let p = range.bin(of: y, binCount: s), p - s / 2 >= lo, p - s / 2 < hi else { outside += 1; continue }
                    }
                }
                #expect(wrongF == 0 && wrongD == 0, "\(q) \(range) first \(first): \(wrongF) float32, \(wrongD) float64 values differ")
                #expect(outside == 0, "\(q) \(range) first \(first)")
            }
        }
    }
}
