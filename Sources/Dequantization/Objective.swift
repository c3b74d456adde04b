import Foundation
import DiscreteAudio
import FlowEngine

/// The dequantization objective in nats and bits per sample: log p(v) + logDet, where the
/// dequantization transform (`DequantizationTransform`) gives v, the scaled point inside each
/// code's cell (container cells: v = (x + u)/K − ½), and logDet = W − log q(u | x) with
/// W = Σ log(w_j/S) the cells' width term (container cells: −T·log K; uniform: log q = 0), and p
/// is the waveform flow. So
///
///     log P(x) ≥ log p(v) + W − log q(u | x)        (nats per sequence, one draw: the ELBO)
///
/// with no other scaling constants anywhere; the bound is on the codes' probability whatever the
/// cells (`SequenceCells`: one per row of a batch, or one for all). Bits per sample = −ELBO / (T·ln 2)
/// (`bitsPerSample`, the one place that conversion is made). Training minimises the batch mean
/// of that; gradients reach q through the transform's `backward`.
public final class Objective {
    public let model: DequantModel
    /// The first transform: uniform or variational dequantization of the codes.
    public let dequantization: any DequantizationTransform
    private var v: [Float] = []
    private var dv: [Float] = []
    private var logp: [Float] = []
    private var logDet: [Double] = []
    private var dLogp: [Float] = []
    private var dLogDet: [Float] = []

    /// Container cells of the model's encoding: the placement when none is given.
    public let defaultCells: SequenceCells

    public init(model: DequantModel) {
        self.model = model
        dequantization = model.dequantizationTransform()
        defaultCells = SequenceCells(containerBinCount: model.binCount)
    }

    /// Bits per sample of a bound of `nats` (natural-log likelihood, summed) over `samples`
    /// samples: −nats / (samples · ln 2).
    public static func bitsPerSample(nats: Double, samples: Int) -> Double {
        -nats / (Double(samples) * M_LN2)
    }

    private func resize(_ n: Int, _ b: Int) {
        if v.count != n { v = [Float](repeating: 0, count: n); dv = v }
        if logp.count != b {
            logp = [Float](repeating: 0, count: b); dLogp = logp; dLogDet = logp
            logDet = [Double](repeating: 0, count: b)
        }
    }

    /// log p(v) + logDet = log p(v) + W − log q(u | x) per sequence, in nats, for one draw
    /// of u. `codes` holds `batch` sequences of `length` bins back to back.
    public func logRatio(codes: UnsafeBufferPointer<UInt32>, cells: [SequenceCells]? = nil, batch: Int, length: Int,
                         rng: inout SplitMix64) throws -> [Double] {
        let n = batch * length
        precondition(codes.count >= n)
        resize(n, batch)
        try v.withUnsafeMutableBufferPointer { vv in
            try logDet.withUnsafeMutableBufferPointer { ld in
                try dequantization.forward(codes: codes, cells: cells ?? [defaultCells], batch: batch, length: length, rng: &rng,
                                           v: vv.baseAddress!, logDet: ld.baseAddress!)
            }
            try logp.withUnsafeMutableBufferPointer { lp in
                try model.flow.forward(vv.baseAddress!, batch: batch, length: length, logp: lp.baseAddress!)
            }
        }
        return (0..<batch).map { Double(logp[$0]) + logDet[$0] }
    }

    /// One training evaluation: the batch-mean loss in bits per sample (−ELBO/(T ln 2)), with the
    /// gradients of p (and q) accumulated into the parameters (zeroed first). The loss
    /// L = −Σ_b (log p_b + logDet_b)/(B·T·ln 2) has dL/dlog p_b = dL/dlogDet_b = −1/(B·T·ln 2).
    public func lossAndGradients(codes: UnsafeBufferPointer<UInt32>, cells: [SequenceCells]? = nil, batch: Int, length: Int,
                                 rng: inout SplitMix64) throws -> Double {
        model.flow.zeroGradients()
        dequantization.zeroGradients()
        let ratios = try logRatio(codes: codes, cells: cells, batch: batch, length: length, rng: &rng)
        let scale = 1 / (Float(batch) * Float(length) * Float(M_LN2))
        for b in 0..<batch { dLogp[b] = -scale; dLogDet[b] = -scale }
        let needInput = dequantization.isTrainable
        try dv.withUnsafeMutableBufferPointer { d in
            try dLogp.withUnsafeBufferPointer { g in
                try model.flow.backward(dLogp: g.baseAddress!, inputGradient: needInput ? d.baseAddress! : nil)
            }
            if needInput {
                try dLogDet.withUnsafeBufferPointer { g in try dequantization.backward(dV: d.baseAddress!, dLogDet: g.baseAddress!) }
            }
        }
        let mean = ratios.reduce(0, +) / Double(batch)
        return Objective.bitsPerSample(nats: mean, samples: length)
    }
}
