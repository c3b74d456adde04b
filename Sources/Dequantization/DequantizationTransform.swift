import Foundation
import FlowEngine

/// Dequantization as the first transform of the flow, in the survae_flows sense: a stochastic
/// map from codes to continuous values that carries its own log-determinant term.
///
/// For a sequence of T codes in cells j_1 … j_T of a quantizer with scale S (`Quantizer`,
/// `SequenceCells`: cell j = [lower_j, upper_j), width w_j) and noise u ∈ [0, 1)ᵀ drawn from
/// q(u | x):
///
///     v_i = (lower_{j_i} + S/2 + u_i·w_{j_i})/S − ½             (per sample, in float32)
///     logDet = W − log q(u | x),  W = Σ_i log(w_{j_i}/S)        (nats per sequence, in Double)
///
/// **What v is.** The point lower + u·w inside the code's true cell, on the quantizer's amplitude
/// scale [−S/2, S/2), divided by S: v ∈ [−½, ½). Container cells (w = 1, S = K):
/// v = (x + u)/K − ½ and W = −T·log K, the code domain of today. G.711 cells in the linear domain:
/// S = 65536 and v is the 16-bit linear value of a point of the decision interval over 65536, the
/// same v for the law's bytes and for 16-bit PCM holding the expanded values (`FlowInput`).
///
/// **Why the bound holds.** u ↦ v is affine per sample with derivative w_j/S, so W is the
/// log-Jacobian, and the density of v under the surjection codes ← v is q(u | x)·(S/w)ᵀ on the
/// cells. Jensen over q gives log P(x) = log ∫_cells p(v) dv ≥ E_q[log p(v) + W − log q(u | x)]:
/// with the flow's log p(v), log p(v) + logDet is the one-draw ELBO of the model's probability of
/// the cells, i.e. of the codes (`Objective`). Uniform dequantization has log q = 0, so
/// logDet = W exactly (−T·log K for container cells). W equals `CellWidthTerm`'s sum.
///
/// Invariants: `forward` consumes `rng` in the same order as the training protocol fixes
/// (uniform: one `nextUniform` per sample in order; variational: q's base noise), and writes
/// `batch · length` values and `batch` log-determinants; `backward` refers to the last `forward`.
/// `cells` gives each row's placement (one entry: every row).
public protocol DequantizationTransform: AnyObject {
    /// K, the number of code bins.
    var binCount: Int { get }
    /// Whether `backward` has parameters to reach (it then needs dL/dv from the flow).
    var isTrainable: Bool { get }

    /// Draws u for `batch` sequences of `length` codes (back to back in `codes`) and writes
    /// v (`batch · length` floats) and logDet (`batch` values, nats).
    func forward(codes: UnsafeBufferPointer<UInt32>, cells: [SequenceCells], batch: Int, length: Int, rng: inout SplitMix64,
                 v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws

    /// Accumulates the gradients of q's parameters from dL/dv (`dV`, per value; overwritten with
    /// dL/du = dL/dv · w_j/S) and dL/dlogDet (`dLogDet`, per sequence) of the last `forward`.
    func backward(dV: UnsafeMutablePointer<Float>, dLogDet: UnsafePointer<Float>) throws

    func zeroGradients()
}

extension DequantizationTransform {
    /// −T·log K in nats: the log-Jacobian of v = (x + u)/K − ½ over a sequence of T samples.
    public func logJacobian(length: Int) -> Double { -Double(length) * log(Double(binCount)) }

    /// Container cells of K = `binCount` for every row (today's transform).
    public func forward(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int, rng: inout SplitMix64,
                        v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws {
        try forward(codes: codes, cells: [SequenceCells(containerBinCount: binCount)], batch: batch, length: length,
                    rng: &rng, v: v, logDet: logDet)
    }

    /// Row b's placement and W (v and dv/du written for its `length` samples).
    func placeRows(codes: UnsafeBufferPointer<UInt32>, cells: [SequenceCells], batch: Int, length: Int,
                   u: UnsafePointer<Float>, v: UnsafeMutablePointer<Float>, dvdu: UnsafeMutablePointer<Float>?,
                   logDet: UnsafeMutablePointer<Double>) {
        precondition(cells.count == 1 || cells.count == batch, "one placement, or one per row")
        let base = codes.baseAddress!
        for b in 0..<batch {
            let p = cells[cells.count == 1 ? 0 : b], o = b * length
            p.place(base + o, u: u + o, count: length, v: v + o, dvdu: dvdu.map { $0 + o })
            logDet[b] = p.widthTerm(UnsafeBufferPointer(start: base + o, count: length))
        }
    }
}

/// Uniform dequantization: u ~ U[0, 1) per sample (the largest float below 1 at most), log q = 0,
/// so logDet = W (−T·log K for container cells). Nothing to train.
public final class UniformDequantizationTransform: DequantizationTransform {
    public let binCount: Int
    public var isTrainable: Bool { false }

    private var u: [Float] = []

    public init(binCount: Int) { self.binCount = binCount }

    public func forward(codes: UnsafeBufferPointer<UInt32>, cells: [SequenceCells], batch: Int, length: Int,
                        rng: inout SplitMix64, v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws {
        let n = batch * length
        precondition(codes.count >= n)
        if u.count != n { u = [Float](repeating: 0, count: n) }
        for i in 0..<n { u[i] = min(Float(rng.nextUniform()), Float(1).nextDown) }
        u.withUnsafeBufferPointer { uu in
            placeRows(codes: codes, cells: cells, batch: batch, length: length, u: uu.baseAddress!, v: v, dvdu: nil, logDet: logDet)
        }
    }

    public func backward(dV: UnsafeMutablePointer<Float>, dLogDet: UnsafePointer<Float>) throws {}
    public func zeroGradients() {}
}

/// Variational dequantization: u = q's flow applied to base noise ε, conditioned on the cell's
/// lower end c = 2·(lower_j + S/2)/S − 1 (`SequenceCells`; container cells: c = 2x/K − 1), so
/// logDet = W − log q(u | x). u ∈ (0, 1) is scaled to the cell. Gradients reach q through u
/// (reparameterisation: dL/du = dL/dv · w_j/S) and through log q (dL/dlog q = −dL/dlogDet).
public final class VariationalDequantizationTransform: DequantizationTransform {
    public let binCount: Int
    public let noise: NoiseFlow
    public var isTrainable: Bool { true }
    private var eps: [Float] = []
    private var condition: [Float] = []
    private var u: [Float] = []
    private var logq: [Float] = []
    private var dLogq: [Float] = []
    private var dvdu: [Float] = []
    private var count = 0

    public init(noise: NoiseFlow, binCount: Int) {
        self.noise = noise
        self.binCount = binCount
    }

    public func forward(codes: UnsafeBufferPointer<UInt32>, cells: [SequenceCells], batch: Int, length: Int,
                        rng: inout SplitMix64, v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws {
        let n = batch * length
        precondition(codes.count >= n)
        precondition(cells.count == 1 || cells.count == batch, "one placement, or one per row")
        if eps.count != n { eps = [Float](repeating: 0, count: n); condition = eps; u = eps; dvdu = eps }
        if logq.count != batch { logq = [Float](repeating: 0, count: batch); dLogq = logq }
        count = n
        condition.withUnsafeMutableBufferPointer { c in
            for b in 0..<batch {
                cells[cells.count == 1 ? 0 : b].condition(codes.baseAddress! + b * length, count: length, into: c.baseAddress! + b * length)
            }
        }
        try eps.withUnsafeMutableBufferPointer { e in
            noise.drawBaseNoise(e.baseAddress!, count: n, rng: &rng)
            try condition.withUnsafeBufferPointer { c in
                try u.withUnsafeMutableBufferPointer { uu in
                    try logq.withUnsafeMutableBufferPointer { lq in
                        try noise.forward(eps: e.baseAddress!, condition: c.baseAddress!, batch: batch, length: length,
                                          u: uu.baseAddress!, logq: lq.baseAddress!)
                    }
                }
            }
        }
        u.withUnsafeBufferPointer { uu in
            dvdu.withUnsafeMutableBufferPointer { d in
                placeRows(codes: codes, cells: cells, batch: batch, length: length, u: uu.baseAddress!, v: v,
                          dvdu: d.baseAddress!, logDet: logDet)
            }
        }
        for b in 0..<batch { logDet[b] -= Double(logq[b]) }
    }

    public func backward(dV: UnsafeMutablePointer<Float>, dLogDet: UnsafePointer<Float>) throws {
        for i in 0..<count { dV[i] *= dvdu[i] }   // dL/du = dL/dv · dv/du
        for b in 0..<logq.count { dLogq[b] = -dLogDet[b] }
        try dLogq.withUnsafeBufferPointer { g in try noise.backward(dU: UnsafePointer(dV), dLogq: g.baseAddress!) }
    }

    public func zeroGradients() { noise.zeroGradients() }
}

extension DequantModel {
    /// The model's dequantization as a training transform: variational with q when the model has
    /// one, uniform otherwise.
    public func dequantizationTransform() -> any DequantizationTransform {
        if let noise { return VariationalDequantizationTransform(noise: noise, binCount: binCount) }
        return UniformDequantizationTransform(binCount: binCount)
    }
}
