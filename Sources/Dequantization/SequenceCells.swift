import Foundation
import DiscreteAudio

/// How the training transform (`DequantizationTransform`) places the codes of one sequence in
/// their cells, on the flow's scale (`FlowInput`): for a code in cell j = [lower_j, upper_j) of a
/// quantizer with scale S (`Quantizer`) and u ∈ [0, 1),
///
///     v = (lower_j + S/2 + u·w_j)/S − ½,   w_j = upper_j − lower_j,   dv/du = w_j/S
///     c = 2·(lower_j + S/2)/S − 1          (q's condition: the cell's lower end on [−1, 1))
///
/// and the sequence's width term W = Σ_i log(w_{j_i}/S) in nats (`CellWidthTerm`).
///
/// For container and lattice cells c = 2x'/K' − 1, the coarse code. For G.711 cells c is the
/// lower end on the linear scale. Conditioning on the law's code instead (c = 2·p/256 − 1, as the
/// code domain does) was measured on FSDD μ-law (1500 steps, seeds
/// 0–2): 5.0114 / 5.0317 / 5.1515 bits/sample against 4.9929 / 5.0048 / 5.0268 with the lower
/// end, so the lower end stays. q's code steps (`NoiseFlow.Configuration.codeSteps`) are scaled
/// by P/2 of the cells (`Corpus.codeStepScale`).
///
/// Container and lattice cells (step 2^k, k = 0 for container) use the coarse code x' = bin >> k
/// with K' = S/2^k: v = (x' + u)/K' − ½ and c = 2x'/K' − 1 in float32, W = −T·log K'. For
/// container cells these are today's formulas with x' = x, K' = K, operation for operation, so
/// the loss is bit-identical. G.711 cells: v from per-cell tables in float64, rounded once to
/// float32; W from `CellWidthTerm`.
///
/// Every code must be on the quantizer (`CellLookup`; the corpus loader checks it).
public struct SequenceCells: Sendable {
    /// The cells; nil for container cells of a K given alone (`init(containerBinCount:)`).
    public let quantizer: Quantizer?
    /// S.
    public let scaleSize: Int
    /// k: coarse code = bin >> k (lattice/container).
    let shift: Int
    /// G.711 only: cell lookup, per cell (lower_j + S/2) and w_j, and the width term.
    let lookup: CellLookup?
    let base: [Double]
    let width: [Double]
    /// G.711 only: q's condition c_j per cell.
    let conditionOfCell: [Float]
    let term: CellWidthTerm?

    /// One-code cells of K bins (S = K).
    public init(containerBinCount k: Int) {
        quantizer = nil
        scaleSize = k
        shift = 0
        lookup = nil; base = []; width = []; conditionOfCell = []; term = nil
    }

    public init(_ q: Quantizer) {
        quantizer = q
        scaleSize = q.scaleSize
        let lookup = CellLookup(q)
        shift = lookup.shift
        if lookup.usesTable {
            self.lookup = lookup
            let cells = (0..<q.cellCount).map { q.cell($0) }
            base = cells.map { Double($0.lower + q.scaleSize / 2) } + [.nan]
            width = cells.map { Double($0.upper - $0.lower) } + [.nan]
            let scale = Double(q.scaleSize)
            conditionOfCell = base.map { Float(2 * $0 / scale - 1) }
            term = CellWidthTerm(quantizer: q)
        } else {
            self.lookup = nil; base = []; width = []; conditionOfCell = []; term = nil
        }
    }

    /// What the flow sees (`FlowInput`).
    public var input: FlowInput {
        quantizer.map(FlowInput.init) ?? FlowInput(domain: .linear, scaleSize: scaleSize, law: nil)
    }

    /// K' = S/2^k for lattice/container cells.
    var coarseBins: Int { scaleSize >> shift }

    /// W = Σ log(w_j/S) in nats over `bins` (precondition: every code on the quantizer).
    public func widthTerm(_ bins: UnsafeBufferPointer<UInt32>) -> Double {
        guard let term else { return -Double(bins.count) * log(Double(coarseBins)) }
        guard let w = term.nats(bins: bins) else { preconditionFailure("a code off the quantizer \(term.quantizer)") }
        return w
    }

    /// The cell index of a bin (G.711 tables).
    @inline(__always) func cell(_ lookup: CellLookup, _ bin: UInt32) -> Int {
        Int(lookup.cellOfKey[Int(bin >> UInt32(shift))])
    }

    /// v for `count` codes at positions u; `dvdu` (when given) gets w_j/S per sample.
    func place(_ bins: UnsafePointer<UInt32>, u: UnsafePointer<Float>, count: Int,
               v: UnsafeMutablePointer<Float>, dvdu: UnsafeMutablePointer<Float>?) {
        if let lookup {
            let s = Double(scaleSize)
            for i in 0..<count {
                let c = cell(lookup, bins[i])
                v[i] = Float((base[c] + Double(u[i]) * width[c]) / s - 0.5)
                dvdu?[i] = Float(width[c] / s)
            }
        } else {
            let inv = 1 / Float(coarseBins), sh = UInt32(shift)
            for i in 0..<count { v[i] = (Float(bins[i] >> sh) + u[i]) * inv - 0.5 }
            if let dvdu { for i in 0..<count { dvdu[i] = inv } }
        }
    }

    /// q's condition c = 2·(lower_j + S/2)/S − 1 for `count` codes (float32; container and
    /// lattice cells: 2x'/K' − 1 operation for operation).
    func condition(_ bins: UnsafePointer<UInt32>, count: Int, into c: UnsafeMutablePointer<Float>) {
        if let lookup {
            for i in 0..<count { c[i] = conditionOfCell[cell(lookup, bins[i])] }
        } else {
            let twoOverK = 2 / Float(coarseBins), sh = UInt32(shift)
            for i in 0..<count { c[i] = Float(bins[i] >> sh) * twoOverK - 1 }
        }
    }
}
