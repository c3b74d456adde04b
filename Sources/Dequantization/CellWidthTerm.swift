import Foundation
import DiscreteAudio

/// The ELBO's width term when dequantization fills the quantizer's true cells (`CellDequantizer`).
///
/// **What the flow sees.** v = t/S ∈ [−½, ½), with t = lower_j + u·w_j the dequantized point on the
/// quantizer's scale (`Quantizer`: scale [−S/2, S/2), cell j = [lower_j, upper_j),
/// w_j = upper_j − lower_j, u ∈ [0, 1) from q). For `container` cells t + S/2 = x + u, so
/// v = (x + u)/K − ½: today's flow input, unchanged. G.711 cells give the scaled linear value
/// (the law's bytes and its expansion to 16/24-bit PCM give the same v: S and every bound scale by m).
///
/// **The bound.** u ↦ v has derivative w_j/S, so for T samples in cells j_1 … j_T, with q the
/// noise distribution (uniform: log q = 0),
///
///     log P(codes) ≥ E_q[ log p(v) + W − log q(u | codes) ],   W = Σ_i log(w_{j_i} / S)   (nats)
///
/// where P(codes) is the model's probability of the cells, ∫ over the cells of p(v) dv. W ≤ 0 is
/// the log-volume, in v units (the whole range has volume 1), of the codes' cells. Container cells:
/// W = −T·log K, the −T·log K term of today's objective. Relative to one-code cells each sample
/// adds log w_j: a lattice 2^k adds +k·log 2 nats per sample (W = −T·(n − k)·log 2 in an n-bit
/// container).
///
/// **Bits per sample.** The bound on −log2 P(codes)/T is −(log p(v) + W − log q)/(T·ln 2); W's
/// share of it is `bitsPerSample` = −W/(T·ln 2) = log2 S − mean_i log2 w_{j_i} ≥ 0 (16 for a
/// 16-bit container, n − k for a 2^k lattice in n bits, 14 for μ-law's ±0 cells in its bytes).
///
/// The sum is taken per cell (count_j · log(w_j/S), in cell order), so W does not depend on the
/// order of the samples in a block.
public struct CellWidthTerm: Sendable {
    public let quantizer: Quantizer
    public let lookup: CellLookup
    /// log(w_j / S) in nats, per cell (G.711); one entry, the common value, for a lattice/container.
    public let logVolume: [Double]

    public init(quantizer: Quantizer) {
        self.quantizer = quantizer
        lookup = CellLookup(quantizer)
        let s = Double(quantizer.scaleSize)
        if lookup.usesTable {
            logVolume = (0..<quantizer.cellCount).map { j in
                let c = quantizer.cell(j)
                return log(Double(c.upper - c.lower) / s)
            }
        } else {
            logVolume = [log(Double(quantizer.latticeStep) / s)]
        }
    }

    /// W = Σ_i log(w_{j_i} / S) in nats over `bins`, or nil when some code has no cell
    /// (`lookup.firstOffQuantizer` finds it).
    public func nats(bins: UnsafeBufferPointer<UInt32>) -> Double? {
        if !lookup.usesTable {
            let mask = lookup.checkMask
            var bad: UInt32 = 0
            for b in bins { bad |= b & mask }
            return bad == 0 ? Double(bins.count) * logVolume[0] : nil
        }
        var count = [Int](repeating: 0, count: CellLookup.offCell + 1)
        let mask = lookup.checkMask, binMask = UInt32(quantizer.encoding.binCount - 1)
        let sh = UInt32(lookup.shift)
        var bad: UInt32 = 0
        lookup.cellOfKey.withUnsafeBufferPointer { table in
            count.withUnsafeMutableBufferPointer { n in
                for b in bins {
                    bad |= b & mask
                    n[Int(table[Int((b & binMask) >> sh)])] += 1
                }
            }
        }
        guard bad == 0, count[CellLookup.offCell] == 0 else { return nil }
        var w = 0.0
        for j in 0..<quantizer.cellCount where count[j] > 0 { w += Double(count[j]) * logVolume[j] }
        return w
    }

    /// W's share of the bound in bits per sample: −W / (T·ln 2) for W in nats over T samples.
    public static func bitsPerSample(nats w: Double, samples t: Int) -> Double {
        -w / (Double(t) * M_LN2)
    }
}
