import Foundation
import Testing
import DiscreteAudio
@testable import Dequantization

private func term(_ q: Quantizer, _ bins: [UInt32]) -> Double? {
    bins.withUnsafeBufferPointer { CellWidthTerm(quantizer: q).nats(bins: $0) }
}

private func close(_ a: Double?, _ b: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= 1e-12 * max(1, abs(b))
}

@Suite struct CellWidthTermTests {
    /// Container cells: W = −T·log K, the term of today's objective (16 bits per sample for 16-bit).
    @Test func containerCellsGiveMinusLogKPerSample() {
        let bins: [UInt32] = [0, 1, 32768, 65535, 12345]
        let w = term(.container(.pcm16), bins)
        #expect(close(w, -5 * log(65536.0)))
        #expect(close(CellWidthTerm.bitsPerSample(nats: w!, samples: 5), 16))
        #expect(close(term(.container(.ulaw), [0, 255]), -2 * log(256.0)))
    }

    /// A 2^8 lattice in 16-bit: log(256/65536) = −8·log 2 per sample, i.e. +8·log 2 per sample
    /// relative to the one-code cells; 8 bits per sample. k = 4: −12·log 2.
    @Test func latticeHandComputation() throws {
        let bins: [UInt32] = [0, 256, 32768, 65280]
        let w8 = term(try .lattice(.pcm16, stepLog2: 8), bins)
        #expect(close(w8, -4 * 8 * M_LN2))
        #expect(close(w8! - term(.container(.pcm16), bins)!, 4 * 8 * M_LN2))
        #expect(close(CellWidthTerm.bitsPerSample(nats: w8!, samples: 4), 8))
        #expect(close(term(try .lattice(.pcm16, stepLog2: 4), bins), -4 * 12 * M_LN2))
        // 16-bit audio in a 24-bit container: 16 bits per sample, as the 16-bit file.
        #expect(close(term(try .lattice(.pcm24, stepLog2: 8), [0, 256, 1 << 23]), -3 * 16 * M_LN2))
    }

    /// μ-law cells by hand, on the 16-bit scale (S = 65536):
    /// +0 (bin 128) = [0, 4): log(4/S) = −14·log 2; bin 200 (magnitude index 72, segment 4,
    /// mantissa 8) = [4·(24·32 − 33), 4·(25·32 − 33)) = [2940, 3068): −9·log 2; the clipped ends
    /// (bins 0 and 255) = [−32768, −31612) and [31612, 32768): log(1156/S).
    @Test func muLawCellsByHand() throws {
        let q = try Quantizer.g711Linear(.ulaw, container: .ulaw)
        #expect(q.cell(200) == (2940, 3068) && q.cell(255) == (31612, 32768) && q.cell(128) == (0, 4))
        let expected = -14 * M_LN2 - 9 * M_LN2 + 2 * (log(1156.0) - 16 * M_LN2)
        #expect(close(term(q, [128, 200, 255, 0]), expected))
        // Expanded to 16-bit: the two zero codes merge into [−4, 4) (8 wide: −13·log 2); the top
        // level 32124 keeps its cell. In 24-bit (m = 256) every width and S scale alike.
        let pcm16 = try Quantizer.g711Linear(.ulaw, container: .pcm16)
        #expect(close(term(pcm16, [32768, 32768 + 32124]), -13 * M_LN2 + log(1156.0) - 16 * M_LN2))
        let pcm24 = try Quantizer.g711Linear(.ulaw, container: .pcm24)
        #expect(close(term(pcm24, [1 << 23, (1 << 23) + 32124 * 256]), -13 * M_LN2 + log(1156.0) - 16 * M_LN2))
        // A-law's smallest positive level 8 has the cell [0, 16): −12·log 2, in bytes and in 24-bit.
        let alaw = try Quantizer.g711Linear(.alaw, container: .pcm24)
        #expect(close(term(alaw, [(1 << 23) + 8 * 256]), -12 * M_LN2))
        #expect(close(term(try .g711Linear(.alaw, container: .alaw), [128]), -12 * M_LN2))
    }

    /// Codes without a cell give no term; the sum does not depend on the samples' order.
    @Test func offQuantizerCodesAndOrder() throws {
        #expect(term(try .lattice(.pcm16, stepLog2: 8), [0, 257]) == nil)
        #expect(term(try .g711Linear(.ulaw, container: .pcm16), [32768 + 4]) == nil)
        #expect(term(.container(.pcm16), [65536]) == nil)
        let q = try Quantizer.g711Linear(.ulaw, container: .ulaw)
        let bins = (0..<10_000).map { UInt32(($0 * 7919) % 256) }
        let a = term(q, bins)!, b = term(q, bins.reversed())!, c = term(q, bins.sorted())!
        #expect(a.bitPattern == b.bitPattern && a.bitPattern == c.bitPattern)
    }
}
