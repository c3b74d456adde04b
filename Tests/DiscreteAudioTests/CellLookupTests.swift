import Testing
@testable import DiscreteAudio

@Suite struct CellLookupTests {
    /// The bulk lookup agrees with `Quantizer.cell(ofBin:)` on every bin of every 8/16-bit
    /// quantizer (lattices: steps 2, 2^4, 2^8, 2^15 and 2^3 in 8-bit), and refuses bins above the
    /// container.
    @Test(arguments: QuantizerTests.all.filter { $0.encoding.binCount <= 65536 && [0, 1, 2, 8, 16, 256, 1 << 15].contains($0.latticeStep) })
    func agreesWithTheQuantizerOnEveryBin(_ q: Quantizer) {
        let lookup = CellLookup(q)
        var mismatches = 0
        for bin in 0..<q.encoding.binCount where lookup.cell(ofBin: UInt32(bin)) != q.cell(ofBin: bin) {
            mismatches += 1
        }
        #expect(mismatches == 0, "\(q)")
        let k = UInt32(q.encoding.binCount)
        for bad in [k, k + 1, k | 256, UInt32.max] { #expect(lookup.cell(ofBin: bad) == nil, "\(q) bin \(bad)") }
    }

    /// 24-bit containers: every multiple of 256 (each G.711 key once), the bins next to them and
    /// a random sample agree with the quantizer.
    @Test(arguments: QuantizerTests.all.filter { $0.encoding == .pcm24 })
    func agreesOn24BitContainers(_ q: Quantizer) {
        let lookup = CellLookup(q)
        var bins = (0..<65536).flatMap { [$0 << 8, ($0 << 8) + 1, ($0 << 8) + 255] }
        var s: UInt64 = 12345
        for _ in 0..<100_000 {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            bins.append(Int(s >> 40))
        }
        var mismatches = 0
        for bin in bins where lookup.cell(ofBin: UInt32(bin)) != q.cell(ofBin: bin) { mismatches += 1 }
        #expect(mismatches == 0, "\(q)")
    }

    @Test func firstOffQuantizerFindsTheFirstOffendingIndex() throws {
        let lattice = CellLookup(try .lattice(.pcm16, stepLog2: 8))
        let onLattice: [UInt32] = [0, 256, 32768, 65280]
        onLattice.withUnsafeBufferPointer { #expect(lattice.firstOffQuantizer($0) == nil) }
        let mixed: [UInt32] = [0, 256, 32769, 512, 1]
        mixed.withUnsafeBufferPointer { #expect(lattice.firstOffQuantizer($0) == 2) }
        // μ-law in 16-bit: 0 (bin 32768) and 8 are levels, 1 and 4 are not.
        let mu = CellLookup(try .g711Linear(.ulaw, container: .pcm16))
        let values: [UInt32] = [32768, 32768 + 8, 32768 + 4, 32768 + 1]
        values.withUnsafeBufferPointer { #expect(mu.firstOffQuantizer($0) == 2) }
    }

    @Test func narrowestCellsAndFloat32Capacity() throws {
        #expect(CellLookup(.container(.pcm16)).minimumCellWidth == 1)
        #expect(CellLookup(try .lattice(.pcm16, stepLog2: 4)).minimumCellWidth == 16)
        #expect(CellLookup(try .g711Linear(.ulaw, container: .ulaw)).minimumCellWidth == 4)
        #expect(CellLookup(try .g711Linear(.ulaw, container: .pcm16)).minimumCellWidth == 8)
        #expect(CellLookup(try .g711Linear(.alaw, container: .pcm24)).minimumCellWidth == 16 * 256)
        #expect(CellLookup(.container(.pcm16)).float32CarriesNoise)
        #expect(!CellLookup(.container(.pcm24)).float32CarriesNoise)
        #expect(!CellLookup(try .lattice(.pcm24, stepLog2: 7)).float32CarriesNoise)
        #expect(CellLookup(try .lattice(.pcm24, stepLog2: 8)).float32CarriesNoise)
        #expect(CellLookup(try .g711Linear(.ulaw, container: .pcm24)).float32CarriesNoise)
    }
}
