import Testing
@testable import DiscreteAudio

/// Reference encoders written from the G.711 segment rules and from the classic Sun `g711.c`,
/// independently of `G711Cells`.
enum ReferenceG711 {
    /// Magnitude index 16·seg + mant of a non-negative real x on the 16-bit scale. The thresholds
    /// are integers, so the rule is applied to ⌊x⌋ in integer arithmetic (no rounding of x/4 + 33).
    static func magnitudeIndex(_ law: SampleEncoding, _ x: Double) -> Int {
        let xi = Int(x.rounded(.down))
        if law == .ulaw {
            let m = xi >> 2
            if m >= 8159 { return 127 }              // the encoder clips the magnitude
            let b = m + 33
            var seg = 0
            while b >= 64 << seg { seg += 1 }
            return seg * 16 + (b >> (seg + 1)) - 16
        }
        let m = xi >> 3
        if m < 32 { return m >> 1 }
        var seg = 1
        while m >= 32 << seg { seg += 1 }
        return seg * 16 + (m >> seg) - 16
    }

    /// Continuous encoder → bin: x ≥ 0 takes the magnitude cell [lo, hi) of x; x < 0 the mirror
    /// cell with the same half-open side, i.e. the magnitude rule applied to (−x).nextDown.
    static func encode(_ law: SampleEncoding, _ x: Double) -> Int {
        x >= 0 ? 128 + magnitudeIndex(law, x) : 127 - magnitudeIndex(law, (-x).nextDown)
    }

    /// Sun `linear2ulaw` on a 16-bit integer.
    static func sunULaw(_ pcm: Int) -> UInt8 {
        var v = pcm >> 2
        let mask: Int
        if v < 0 { v = -v; mask = 0x7F } else { mask = 0xFF }
        if v > 8159 { v = 8159 }
        v += 33
        let ends = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF]
        var seg = 0
        while seg < 8 && v > ends[seg] { seg += 1 }
        if seg >= 8 { return UInt8(0x7F ^ mask) }
        return UInt8(((seg << 4) | ((v >> (seg + 1)) & 0xF)) ^ mask)
    }

    /// ITU-T G.191 `ulaw_compress` (its g711.c) on a 16-bit integer: magnitude ⌊(−x − 1)/4⌋ for x < 0.
    static func g191ULaw(_ lin: Int) -> UInt8 {
        var absno = lin < 0 ? ((~lin) >> 2) + 33 : (lin >> 2) + 33
        if absno > 0x1FFF { absno = 0x1FFF }
        var i = absno >> 6, segno = 1
        while i != 0 { segno += 1; i >>= 1 }
        let high = 8 - segno, low = 15 - ((absno >> segno) & 0xF)
        let out = (high << 4) | low
        return UInt8(lin >= 0 ? out | 0x80 : out)
    }

    /// ITU-T G.191 `alaw_compress` on a 16-bit integer: magnitude ⌊(−x − 1)/16⌋ for x < 0.
    static func g191ALaw(_ lin: Int) -> UInt8 {
        var ix = lin < 0 ? (~lin) >> 4 : lin >> 4
        if ix > 15 {
            var iexp = 1
            while ix > 16 + 15 { ix >>= 1; iexp += 1 }
            ix -= 16
            ix += iexp << 4
        }
        if lin >= 0 { ix |= 0x80 }
        return UInt8(ix ^ 0x55)
    }

    /// Sun `linear2alaw` on a 16-bit integer.
    static func sunALaw(_ pcm: Int) -> UInt8 {
        var v = pcm >> 3
        let mask: Int
        if v >= 0 { mask = 0xD5 } else { mask = 0x55; v = -v - 1 }
        let ends = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF]
        var seg = 0
        while seg < 8 && v > ends[seg] { seg += 1 }
        if seg >= 8 { return UInt8(0x7F ^ mask) }
        let a = (seg << 4) | (seg < 2 ? (v >> 1) & 0xF : (v >> seg) & 0xF)
        return UInt8(a ^ mask)
    }
}

@Suite struct G711CellsTests {
    @Test(arguments: [SampleEncoding.ulaw, .alaw])
    func cellsTileTheScaleAndHoldTheirLevels(_ law: SampleEncoding) {
        let cells = G711Cells.of(law)
        #expect(cells.bounds.first == -32768 && cells.bounds.last == 32768)
        for b in 0..<256 {
            let (lo, hi) = cells.cell(bin: b)
            #expect(lo < hi)
            let level = Int(cells.levels[b])
            if law == .ulaw && b == 127 {
                #expect(lo == -4 && hi == 0 && level == 0)   // −0: level at the excluded upper end
            } else {
                #expect(lo <= level && level < hi, "bin \(b): level \(level) outside [\(lo), \(hi))")
            }
            // The decoder's level is the cell's midpoint except at μ-law's zero and clipped end cells.
            let ends = law == .ulaw ? [0, 127, 128, 255] : []
            if !ends.contains(b) {
                #expect(2 * level == lo + hi, "bin \(b)")
                #expect(hi - lo == cells.segmentSpacing(bin: b), "bin \(b)")
            }
            // And it is the value libsndfile's tables give for the byte (G711.*Linear).
            let byte = BinMap(law).binToByte[b]
            #expect(level == (law == .ulaw ? G711.muLawLinear(byte) : G711.aLawLinear(byte)))
        }
        #expect(law == .alaw ? cells.cell(bin: 128) == (0, 16) && cells.cell(bin: 127) == (-16, 0)
                             : cells.cell(bin: 128) == (0, 4) && cells.cell(bin: 129) == (4, 12))
    }

    @Test(arguments: [SampleEncoding.ulaw, .alaw])
    func encoderMapsEveryPointOfACellToItsCode(_ law: SampleEncoding) {
        let cells = G711Cells.of(law)
        for b in 0..<256 {
            let (lo, hi) = cells.cell(bin: b)
            var points = [Double(lo), Double(lo).nextUp, Double(hi).nextDown, Double(lo + hi) / 2]
            for w in lo..<hi { points.append(Double(w)); points.append(Double(w) + 0.5) }
            for x in points {
                #expect(ReferenceG711.encode(law, x) == b, "x = \(x) in bin \(b)'s cell")
                #expect(cells.bin(ofValue: x) == b)
            }
            if hi < 32768 { #expect(ReferenceG711.encode(law, Double(hi)) == b + 1) }
        }
        #expect(cells.bin(ofValue: 32768) == nil && cells.bin(ofValue: (-32768.0).nextDown) == nil)
        #expect(cells.bin(ofValue: .nan) == nil)
    }

    @Test func sunALawEncoderAgreesOnEvery16BitInteger() {
        let cells = G711Cells.alaw
        for x in -32768..<32768 {
            #expect(G711.aLawBin(ReferenceG711.sunALaw(x)) == Int(cells.binOfValue[x + 32768]), "x = \(x)")
        }
    }

    /// The cells are the G.191 reference encoder's on every 16-bit integer (what the sidecar's
    /// decode rule for G.711 cells says).
    @Test func g191EncoderAgreesOnEvery16BitInteger() {
        for x in -32768..<32768 {
            #expect(G711.muLawBin(ReferenceG711.g191ULaw(x)) == Int(G711Cells.ulaw.binOfValue[x + 32768]), "x = \(x)")
            #expect(G711.aLawBin(ReferenceG711.g191ALaw(x)) == Int(G711Cells.alaw.binOfValue[x + 32768]), "x = \(x)")
        }
    }

    /// The sidecar's decode rule for G.711 cells, followed as written (`SidecarQuantizer.decodeRule`):
    /// x from the range's rule, w = ⌊(x − S/2)/m⌋, b = the G.191 encoder of w, code = b in the
    /// law's bytes and S/2 + m·level(b) in PCM. It gives every cell's code at both ends and inside,
    /// in both ranges, for the law's bytes and 16- and 24-bit PCM.
    @Test(arguments: [SampleEncoding.ulaw, .alaw])
    func decodeRuleThroughTheG191EncoderFindsEveryCellsCode(_ law: SampleEncoding) throws {
        for container in [law, .pcm16, .pcm24] {
            let q = try Quantizer.g711Linear(law, container: container)
            let s = q.scaleSize, m = container.isLinear ? s >> 16 : 1
            for range in [DequantRange.unit, .symmetric] {
                for j in 0..<q.cellCount {
                    for u in [0, 0.5, 1.0.nextDown] {
                        let y: Double = q.y(ofCell: j, u: u, range: range)
                        let x = try #require(range.bin(of: y, binCount: s))
                        let w = (x - s / 2) >> m.trailingZeroBitCount
                        let byte = law == .ulaw ? ReferenceG711.g191ULaw(w) : ReferenceG711.g191ALaw(w)
                        let bin = law == .ulaw ? G711.muLawBin(byte) : G711.aLawBin(byte)
                        let level = Int(G711Cells.of(law).levels[bin])
                        let code = container.isLinear ? s / 2 + m * level : bin
                        #expect(code == q.bin(ofCell: j), "\(q) \(range) cell \(j) u \(u)")
                    }
                }
            }
        }
    }

    @Test func sunULawEncoderAgreesUpToItsNegativeShift() {
        // linear2ulaw floors x/4 before taking the magnitude: for x < 0 it codes x as these cells
        // code x − 4 (−32768 for x − 4 below it), and it never emits −0 (0x7F), whose cell is [−4, 0).
        let cells = G711Cells.ulaw
        var shifted = 0
        for x in -32768..<32768 {
            let sun = G711.muLawBin(ReferenceG711.sunULaw(x))
            if x >= 0 {
                #expect(sun == Int(cells.binOfValue[x + 32768]), "x = \(x)")
            } else {
                #expect(sun == Int(cells.binOfValue[max(x - 4, -32768) + 32768]), "x = \(x)")
                #expect(sun != 127)
                if sun != Int(cells.binOfValue[x + 32768]) { shifted += 1 }
            }
        }
        // the four lowest integers of each negative cell but the clipped end one (127 cells, −0 included)
        #expect(shifted == 127 * 4)
    }
}

@Suite struct QuantizerTests {
    static let all: [Quantizer] = {
        var q: [Quantizer] = [.container(.pcm16), .container(.ulaw), .container(.alaw), .container(.pcmU8),
                              .container(.pcmS8)]
        for k in 1..<16 { q.append(try! .lattice(.pcm16, stepLog2: k)) }
        q.append(try! .lattice(.pcmU8, stepLog2: 3))
        q.append(try! .lattice(.pcm24, stepLog2: 8))
        q.append(try! .lattice(.pcm24, stepLog2: 12))
        for law in [SampleEncoding.ulaw, .alaw] {
            for c in [law, .pcm16, .pcm24] { q.append(try! .g711Linear(law, container: c)) }
        }
        return q
    }()

    @Test(arguments: all)
    func cellsTileDecodeExactlyAndRestoreTheCode(_ q: Quantizer) {
        let half = q.scaleSize / 2
        var expectedLower = -half
        for j in 0..<q.cellCount {
            let (lo, hi) = q.cell(j)
            #expect(lo == expectedLower, "\(q) cell \(j): gap or overlap")
            #expect(hi > lo)
            expectedLower = hi
            // Decoding is exact at both ends of the half-open cell.
            #expect(q.cell(ofValue: Double(lo)) == j)
            #expect(q.cell(ofValue: Double(hi).nextDown) == j)
            #expect(q.cell(ofValue: Double(hi)) == (j + 1 < q.cellCount ? j + 1 : nil))
            // The decoder's level lies inside (μ-law −0 in bytes: at its cell's upper end).
            let level = q.level(ofCell: j)
            if case .g711Linear(.ulaw) = q.kind, !q.encoding.isLinear, j == 127 {
                #expect(level == hi)
            } else {
                #expect(lo <= level && level < hi, "\(q) cell \(j)")
            }
            // The stored code round trip, bit for bit.
            let bin = q.bin(ofCell: j)
            #expect(q.cell(ofBin: bin) == j)
            // Dequantization: u = 0, 1/2 and just below 1 decode back to the cell.
            #expect(q.value(ofCell: j, u: 0) == Double(lo))
            for u in [0.0, 0.5, 1.0.nextDown, 0.999_999] {
                let t = q.value(ofCell: j, u: u)
                #expect(t >= Double(lo) && t < Double(hi))
                #expect(q.cell(ofValue: t) == j, "\(q) cell \(j) u \(u)")
                #expect(q.position(of: t, inCell: j) < 1)
            }
        }
        #expect(expectedLower == half)
        #expect(q.cell(ofValue: Double(-half).nextDown) == nil && q.cell(ofValue: .infinity) == nil)
    }

    @Test(arguments: all.filter { $0.encoding.binCount <= 65536 })
    func exactlyTheQuantizersCodesHaveCells(_ q: Quantizer) {
        var hits = [Int](repeating: 0, count: q.cellCount)
        for bin in 0..<q.encoding.binCount {
            if let j = q.cell(ofBin: bin) {
                hits[j] += 1
                #expect(q.bin(ofCell: j) == bin)
                // A code's cell holds the value the code stands for.
                let v = Double(bin - q.encoding.binCount / 2)
                if q.encoding.isLinear { #expect(q.cell(ofValue: v) == j) }
            }
        }
        #expect(hits.allSatisfy { $0 == 1 }, "\(q): every cell has exactly one code")
        #expect(q.cell(ofBin: -1) == nil && q.cell(ofBin: q.encoding.binCount) == nil)
    }

    @Test(arguments: all)
    func outputRangeRoundTripInFloatAndDouble(_ q: Quantizer) {
        let step = max(1, q.cellCount / 4096)
        let s = q.scaleSize
        for range in DequantRange.allCases {
            for j in Array(stride(from: 0, to: q.cellCount, by: step)) + [q.cellCount - 1] {
                for u in [0.0, 0.5, 1 - 1.0 / 1024, 1 - 0x1p-30, 1.0.nextDown] {
                    let f: Float = q.y(ofCell: j, u: u, range: range)
                    let d: Double = q.y(ofCell: j, u: u, range: range)
                    #expect(q.cell(ofY: Double(f), range: range) == j, "\(q) \(range) cell \(j) u \(u) Float")
                    #expect(q.cell(ofY: d, range: range) == j, "\(q) \(range) cell \(j) u \(u)")
                    #expect(d >= range.lowerBound && d < range.upperBound)
                }
                // u = 0 is the image of the lower bound, exactly, in both types.
                let lo = Double(q.cell(j).lower + s / 2 + range.offset(binCount: s)) * range.scale(binCount: s)
                #expect(q.y(ofCell: j, u: 0, range: range, as: Double.self) == lo)
                #expect(q.y(ofCell: j, u: 0, range: range, as: Float.self) == Float(lo))
            }
        }
        #expect(q.cell(ofY: 1, range: .unit) == nil && q.cell(ofY: -1, range: .symmetric) == 0)
    }

    @Test func float32GuardAndBinCoordinateDecode() throws {
        // The top cell of an 8-bit lattice in 16-bit: Float rounding of u = 1 − 2^−30 reaches 1.0.
        let q = try Quantizer.lattice(.pcm16, stepLog2: 8)
        let u = 1 - 0x1p-30
        #expect(Float((65280 + u * 256) / 65536) == 1)
        #expect(q.y(ofCell: 255, u: u, range: .unit, as: Float.self) == Float(1).nextDown)
        // Decoding y just below 1/65536 (bin coordinate 1 − 2^−53): the cell of bin 0. Subtracting
        // S/2 in floating point would round onto −32767, the next cell's lower end.
        let c = Quantizer.container(.pcm16)
        let y = 1.0.nextDown / 65536
        #expect(y * 65536 - 32768 == -32767)
        #expect(c.cell(ofY: y, range: .unit) == 0)
    }

    @Test func lattice8In16DequantizesLikeThe8BitFile() throws {
        // v = c·256 has the cell [v, v + 256): y = (t + 32768)/65536 = (c + 128 + u)/256 exactly.
        let q = try Quantizer.lattice(.pcm16, stepLog2: 8)
        #expect(q.cellCount == 256)
        for c in -128..<128 {
            let j = try #require(q.cell(ofBin: c * 256 + 32768))
            #expect(q.cell(j) == (c * 256, c * 256 + 256))
            for u in [0.0, 0.25, 0.5, 0.75, 1 - 1.0 / 1024] {
                let y16 = (q.value(ofCell: j, u: u) + 32768) / 65536
                #expect(y16 == (Double(c + 128) + u) / 256)
            }
        }
        #expect(q.cell(ofBin: 32768 + 128) == nil)   // 128 is not on the 2^8 lattice
    }

    @Test func muLawZeroCodes() throws {
        let bytes = try Quantizer.g711Linear(.ulaw, container: .ulaw)
        #expect(bytes.cellCount == 256)
        #expect(bytes.cell(127) == (-4, 0) && bytes.cell(128) == (0, 4))
        #expect(bytes.bin(ofCell: 127) == 127 && bytes.bin(ofCell: 128) == 128)   // 0x7F and 0xFF kept
        #expect(bytes.cell(ofValue: -4) == 127 && bytes.cell(ofValue: (-4.0).nextDown) == 126)
        #expect(bytes.cell(ofValue: 0) == 128 && bytes.cell(ofValue: -0.0) == 128)
        let expanded = try Quantizer.g711Linear(.ulaw, container: .pcm16)
        #expect(expanded.cellCount == 255)
        let zero = try #require(expanded.cell(ofBin: 32768))
        #expect(expanded.cell(zero) == (-4, 4) && expanded.level(ofCell: zero) == 0)
        #expect(expanded.cell(ofValue: -4) == zero && expanded.cell(ofValue: 3.999) == zero)
        #expect(expanded.cell(ofBin: 32768 + 8) == zero + 1 && expanded.cell(ofBin: 32768 - 8) == zero - 1)
        #expect(expanded.cell(ofBin: 32768 + 4) == nil)   // not a μ-law level
        // At 24-bit scale every cell is 256 times the 16-bit cell.
        let wide = try Quantizer.g711Linear(.ulaw, container: .pcm24)
        #expect(wide.cell(zero) == (-1024, 1024) && wide.level(ofCell: 254) == 32124 * 256)
        #expect(wide.cell(ofBin: (1 << 23) + 32124 * 256) == 254 && wide.cell(ofBin: (1 << 23) + 32124) == nil)
    }

    @Test func aLawExpandedKeepsAll256Cells() throws {
        let q = try Quantizer.g711Linear(.alaw, container: .pcm16)
        #expect(q.cellCount == 256)
        #expect(q.cell(127) == (-16, 0) && q.cell(128) == (0, 16))
        #expect(q.level(ofCell: 127) == -8 && q.level(ofCell: 128) == 8 && q.level(ofCell: 255) == 32256)
        #expect(q.cell(ofBin: 32768) == nil)   // A-law has no zero level
    }

    @Test func dequantizationNeverRoundsOntoTheNextCell() {
        // Naively, 32767 + (1 − 2^−53)·1 rounds to 32768 = the next cell's lower end.
        let q = Quantizer.container(.pcm16)
        let u = 1.0.nextDown
        #expect(Double(32767) + u * 1 == 32768)
        #expect(q.value(ofCell: 65535, u: u) == 32768.0.nextDown)
        #expect(q.cell(ofValue: q.value(ofCell: 65534, u: u)) == 65534)
    }

    @Test func invalidQuantizersAreRefused() {
        #expect(throws: DiscreteAudioError.needsLinearPCM(.ulaw)) { try Quantizer.lattice(.ulaw, stepLog2: 2) }
        #expect(throws: DiscreteAudioError.latticeStepOutOfRange(stepLog2: 16, containerBits: 16)) {
            try Quantizer.lattice(.pcm16, stepLog2: 16)
        }
        #expect(throws: DiscreteAudioError.latticeStepOutOfRange(stepLog2: -1, containerBits: 16)) {
            try Quantizer.lattice(.pcm16, stepLog2: -1)
        }
        #expect(throws: DiscreteAudioError.g711ContainerMismatch(law: .pcm16, container: .pcm16)) {
            try Quantizer.g711Linear(.pcm16, container: .pcm16)
        }
        #expect(throws: DiscreteAudioError.g711ContainerMismatch(law: .ulaw, container: .alaw)) {
            try Quantizer.g711Linear(.ulaw, container: .alaw)
        }
        #expect(throws: DiscreteAudioError.g711ContainerMismatch(law: .alaw, container: .pcmU8)) {
            try Quantizer.g711Linear(.alaw, container: .pcmU8)
        }
        #expect((try? Quantizer.lattice(.pcm16, stepLog2: 0)) == .container(.pcm16))
    }
}
