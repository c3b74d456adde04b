import Foundation
import FlowEngine

/// Dequantization as the first transform of the flow, in the survae_flows sense: a stochastic
/// map from codes to continuous values that carries its own log-determinant term.
///
/// For a sequence of T codes x ∈ {0, …, K−1}ᵀ and noise u ∈ [0, 1)ᵀ drawn from q(u | x):
///
///     v = (x + u)/K − ½                        (per sample, in float32)
///     logDet = −T·log K − log q(u | x)         (nats per sequence, in Double)
///
/// −T·log K is the log-Jacobian of x + u ↦ v; −log q is the surjection's likelihood
/// contribution. With the flow's log p(v), log p(v) + logDet is the one-draw ELBO of log P(x)
/// (`Objective`). Uniform dequantization has q = U[0, 1)ᵀ, so logDet = −T·log K exactly.
///
/// Invariants: `forward` consumes `rng` in the same order as the training protocol fixes
/// (uniform: one `nextUniform` per sample in order; variational: q's base noise), and writes
/// `batch · length` values and `batch` log-determinants; `backward` refers to the last `forward`.
public protocol DequantizationTransform: AnyObject {
    /// K, the number of code bins.
    var binCount: Int { get }
    /// Whether `backward` has parameters to reach (it then needs dL/dv from the flow).
    var isTrainable: Bool { get }

    /// Draws u for `batch` sequences of `length` codes (back to back in `codes`) and writes
    /// v (`batch · length` floats) and logDet (`batch` values, nats).
    func forward(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int, rng: inout SplitMix64,
                 v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws

    /// Accumulates the gradients of q's parameters from dL/dv (`dV`, per value; overwritten with
    /// dL/du = dL/dv / K) and dL/dlogDet (`dLogDet`, per sequence) of the last `forward`.
    func backward(dV: UnsafeMutablePointer<Float>, dLogDet: UnsafePointer<Float>) throws

    func zeroGradients()
}

extension DequantizationTransform {
    /// −T·log K in nats: the log-Jacobian of v = (x + u)/K − ½ over a sequence of T samples.
    public func logJacobian(length: Int) -> Double { -Double(length) * log(Double(binCount)) }
}

/// Uniform dequantization: u ~ U[0, 1) per sample (the largest float below 1 at most), log q = 0,
/// so logDet = −T·log K. Nothing to train.
public final class UniformDequantizationTransform: DequantizationTransform {
    public let binCount: Int
    public var isTrainable: Bool { false }

    public init(binCount: Int) { self.binCount = binCount }

    public func forward(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int, rng: inout SplitMix64,
                        v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws {
        let n = batch * length
        precondition(codes.count >= n)
        let invK = 1 / Float(binCount)
        for i in 0..<n {
            let u = min(Float(rng.nextUniform()), Float(1).nextDown)
            v[i] = (Float(codes[i]) + u) * invK - 0.5
        }
        let jacobian = logJacobian(length: length)
        for b in 0..<batch { logDet[b] = jacobian }
    }

    public func backward(dV: UnsafeMutablePointer<Float>, dLogDet: UnsafePointer<Float>) throws {}
    public func zeroGradients() {}
}

/// Variational dequantization: u = q's flow applied to base noise ε, conditioned on c = 2x/K − 1
/// (`NoiseFlow`), so logDet = −T·log K − log q(u | x). Gradients reach q through u
/// (reparameterisation: dL/du = dL/dv / K) and through log q (dL/dlog q = −dL/dlogDet).
public final class VariationalDequantizationTransform: DequantizationTransform {
    public let binCount: Int
    public let noise: NoiseFlow
    public var isTrainable: Bool { true }
    private var eps: [Float] = []
    private var condition: [Float] = []
    private var u: [Float] = []
    private var logq: [Float] = []
    private var dLogq: [Float] = []
    private var count = 0

    public init(noise: NoiseFlow, binCount: Int) {
        self.noise = noise
        self.binCount = binCount
    }

    public func forward(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int, rng: inout SplitMix64,
                        v: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Double>) throws {
        let n = batch * length
        precondition(codes.count >= n)
        if eps.count != n { eps = [Float](repeating: 0, count: n); condition = eps; u = eps }
        if logq.count != batch { logq = [Float](repeating: 0, count: batch); dLogq = logq }
        count = n
        let k = Float(binCount)
        let twoOverK = 2 / k
        for i in 0..<n { condition[i] = Float(codes[i]) * twoOverK - 1 }
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
        let invK = 1 / k
        for i in 0..<n { v[i] = (Float(codes[i]) + u[i]) * invK - 0.5 }
        let jacobian = logJacobian(length: length)
        for b in 0..<batch { logDet[b] = jacobian - Double(logq[b]) }
    }

    public func backward(dV: UnsafeMutablePointer<Float>, dLogDet: UnsafePointer<Float>) throws {
        let invK = 1 / Float(binCount)
        for i in 0..<count { dV[i] *= invK }   // dL/du = dL/dv · dv/du
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
