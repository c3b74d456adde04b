import Foundation
import DiscreteAudio
import FlowEngine

/// The dequantization objective in nats and bits per sample.
///
/// For codes x (B sequences of T bins) and noise u ∈ [0, 1)^T drawn from q(u | x) (uniform: q = 1),
/// the flow sees v = (x + u)/K − ½ and
///
///     log P(x) ≥ log p(v) + T·log(1/K) − log q(u | x)        (nats per sequence, one draw: the ELBO)
///
/// where T·log(1/K) is the log-Jacobian of v = (x+u)/K − ½ (no other scaling constants anywhere).
/// Bits per sample = −ELBO / (T·ln 2). Training minimises the batch mean of that; gradients reach
/// q through u (reparameterisation): dL/du = dL/dv / K.
public final class Objective {
    public let model: DequantModel
    private var v: [Float] = []
    private var u: [Float] = []
    private var eps: [Float] = []
    private var cond: [Float] = []
    private var logp: [Float] = []
    private var logq: [Float] = []
    private var dv: [Float] = []
    private var dLogp: [Float] = []
    private var dLogq: [Float] = []

    public init(model: DequantModel) { self.model = model }

    private func resize(_ n: Int, _ b: Int) {
        if v.count != n {
            v = [Float](repeating: 0, count: n); u = v; dv = v
            if model.noise != nil { eps = v; cond = v }
        }
        if logp.count != b { logp = [Float](repeating: 0, count: b); logq = logp; dLogp = logp; dLogq = logp }
    }

    /// log p(v) − T·log K − log q(u | x) per sequence, in nats, for one draw of u.
    /// `codes` holds `batch` sequences of `length` bins back to back.
    public func logRatio(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int,
                         rng: inout SplitMix64) throws -> [Double] {
        try forward(codes: codes, batch: batch, length: length, rng: &rng)
        let logK = log(Double(model.binCount))
        return (0..<batch).map { Double(logp[$0]) - Double(length) * logK - Double(logq[$0]) }
    }

    private func forward(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int, rng: inout SplitMix64) throws {
        let n = batch * length
        precondition(codes.count >= n)
        resize(n, batch)
        let k = Float(model.binCount)
        if let noise = model.noise {
            let twoOverK = 2 / k
            for i in 0..<n { cond[i] = Float(codes[i]) * twoOverK - 1 }
            try eps.withUnsafeMutableBufferPointer { e in
                noise.drawBaseNoise(e.baseAddress!, count: n, rng: &rng)
                try cond.withUnsafeBufferPointer { c in
                    try u.withUnsafeMutableBufferPointer { uu in
                        try logq.withUnsafeMutableBufferPointer { lq in
                            try noise.forward(eps: e.baseAddress!, condition: c.baseAddress!, batch: batch, length: length,
                                              u: uu.baseAddress!, logq: lq.baseAddress!)
                        }
                    }
                }
            }
        } else {
            for i in 0..<n { u[i] = min(Float(rng.nextUniform()), Float(1).nextDown) }
            for b in 0..<batch { logq[b] = 0 }
        }
        let invK = 1 / k
        for i in 0..<n { v[i] = (Float(codes[i]) + u[i]) * invK - 0.5 }
        try v.withUnsafeBufferPointer { vv in
            try logp.withUnsafeMutableBufferPointer { lp in
                try model.flow.forward(vv.baseAddress!, batch: batch, length: length, logp: lp.baseAddress!)
            }
        }
    }

    /// One training evaluation: the batch-mean loss in bits per sample (−ELBO/(T ln 2)), with the
    /// gradients of p (and q) accumulated into the parameters (zeroed first).
    public func lossAndGradients(codes: UnsafeBufferPointer<UInt32>, batch: Int, length: Int,
                                 rng: inout SplitMix64) throws -> Double {
        model.flow.zeroGradients()
        model.noise?.zeroGradients()
        let ratios = try logRatio(codes: codes, batch: batch, length: length, rng: &rng)
        let scale = 1 / (Float(batch) * Float(length) * Float(M_LN2))
        for b in 0..<batch { dLogp[b] = -scale; dLogq[b] = scale }
        let needInput = model.noise != nil
        try dLogp.withUnsafeBufferPointer { g in
            try dv.withUnsafeMutableBufferPointer { d in
                try model.flow.backward(dLogp: g.baseAddress!, inputGradient: needInput ? d.baseAddress! : nil)
            }
        }
        if let noise = model.noise {
            let invK = 1 / Float(model.binCount)
            for i in 0..<(batch * length) { dv[i] *= invK }   // dL/du = dL/dv · dv/du
            try dv.withUnsafeBufferPointer { d in
                try dLogq.withUnsafeBufferPointer { g in try noise.backward(dU: d.baseAddress!, dLogq: g.baseAddress!) }
            }
        }
        let mean = ratios.reduce(0, +) / Double(batch)
        return -mean / (Double(length) * M_LN2)
    }
}
