import Foundation
import DiscreteAudio

/// How the training transform (`DequantizationTransform`) places the codes of one sequence in
/// their cells, on the flow's scale (`FlowInput`): for a code in cell j = [lower_j, upper_j) of a
/// quantizer with scale S (`Quantizer`) and u ∈ [0, 1),
///
///     v = (lower_j + S/2 + u·w_j)/S − ½,   w_j = upper_j − lower_j,   dv/du = w_j/S
///     c = 2·p_j/P − 1                       (q's condition, on [−1, 1))
///
/// with (p_j, P) the cell's place on the quantizer's own code scale (`Quantizer.codePosition`):
/// the coarse code of P = K' cells for container and lattice cells, the law's amplitude-ordered
/// byte of P = 256 for G.711 cells. So q sees G.711 audio in the linear domain exactly as it sees
/// the law's bytes in the code domain (c = 2x/256 − 1): the quiet cells, a few units wide on the
/// 16-bit scale, stay as far apart as their codes. (Conditioning on the cell's lower end on the
/// linear scale, as model files without `noise.condition` = 1 did, squeezes the 64 quietest
/// μ-law cells into |c| < 0.004, and q's code steps (`NoiseFlow.Configuration.codeSteps` = P/2)
/// into nothing: measured, q then gained nothing over uniform noise.)
///
/// and the sequence's width term W = Σ_i log(w_{j_i}/S) in nats (`CellWidthTerm`).
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
            conditionOfCell = (0..<q.cellCount).map { j in
                let (p, count) = q.codePosition(ofCell: j)
                return Float(p) * (2 / Float(count)) - 1
            } + [.nan]
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

    /// P/2, the code-step scale of q (`NoiseFlow.Configuration.codeSteps`) that makes one unit
    /// of the step feature one cell of these quantizers: K'/2 for container and lattice cells,
    /// 128 for G.711 cells.
    public var codeStepScale: Int { quantizer.map { $0.codePosition(ofCell: 0).count / 2 } ?? coarseBins / 2 }

    /// q's condition c = 2·p_j/P − 1 for `count` codes (float32; container and lattice cells:
    /// 2x'/K' − 1 operation for operation as before).
    func condition(_ bins: UnsafePointer<UInt32>, count: Int, into c: UnsafeMutablePointer<Float>) {
        if let lookup {
            for i in 0..<count { c[i] = conditionOfCell[cell(lookup, bins[i])] }
        } else {
            let twoOverK = 2 / Float(coarseBins), sh = UInt32(shift)
            for i in 0..<count { c[i] = Float(bins[i] >> sh) * twoOverK - 1 }
        }
    }
}
