import Foundation

/// Affine coupling on (batch, C, time): the first nA = C/2 channels x_a pass unchanged and
/// condition the other nB = C - nA channels x_b:
///
///     h = NN(x_a)                          (batch, 2 nB, time)
///     logS = tanh(h[:, :nB]),  y_b = x_b * exp(logS) + h[:, nB:],  y_a = x_a
///     logDet[b] += sum_{c, t} logS[b, c, t]
///
/// The element-wise part (forward, backward, inverse) is `TanhAffine`, row by row: channel c of
/// x_b with raw scale h[:, c] and shift h[:, nB + c].
/// NN = Conv1d(nA -> hidden, k) ReLU, Conv1d(hidden -> hidden, k) ReLU, Conv1d(hidden -> 2 nB, k),
/// "same" zero padding, the last layer zero-initialised (the coupling starts as the identity).
/// The conditioner's activations, logS and exp(logS) of the latest forward are kept for backward.
public final class AffineCoupling: InvertibleTransform {
    public let channels: Int
    public let hidden: Int
    public let conv1: Conv1d
    public let conv2: Conv1d
    public let conv3: Conv1d
    private var nA: Int { channels / 2 }
    private var nB: Int { channels - channels / 2 }

    private let h1 = Workspace(), h2 = Workspace(), h = Workspace()
    private let logS = Workspace(), scale = Workspace()
    private let dh = Workspace(), dh1 = Workspace(), dh2 = Workspace()
    private var forwardShape: Shape? = nil

    /// Buffers of one forward call, shared with the worker threads.
    private struct Pointers: @unchecked Sendable {
        var x: UnsafePointer<Float>, h: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        var logS: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Float>
    }

    /// Buffers of one backward call, shared with the worker threads.
    private struct BackwardPointers: @unchecked Sendable {
        var x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
        var dh: UnsafeMutablePointer<Float>, logS: UnsafePointer<Float>, scale: UnsafePointer<Float>
        var dLogDet: UnsafePointer<Float>
    }

    /// `seed` drives the PyTorch-default init of the first two convolutions.
    public init(name: String, channels: Int, hidden: Int, kernelSize: Int = 3, seed: UInt64) throws {
        guard channels >= 2 else {
            throw FlowEngineError.invalidConfiguration("\(name): coupling needs at least 2 channels, got \(channels)")
        }
        self.channels = channels
        self.hidden = hidden
        let nA = channels / 2, nB = channels - nA
        conv1 = try Conv1d(name: name + ".conv1", inChannels: nA, outChannels: hidden, kernelSize: kernelSize,
                           activation: .relu, initialization: .torchDefault(seed: seed))
        conv2 = try Conv1d(name: name + ".conv2", inChannels: hidden, outChannels: hidden, kernelSize: kernelSize,
                           activation: .relu, initialization: .torchDefault(seed: seed &+ 1))
        conv3 = try Conv1d(name: name + ".conv3", inChannels: hidden, outChannels: 2 * nB, kernelSize: kernelSize,
                           initialization: .zeros)
    }

    public var parameters: [Parameter] { conv1.parameters + conv2.parameters + conv3.parameters }

    /// Threads over batch items used by the conditioner's convolutions.
    public var workers: Int {
        get { conv1.workers }
        set { for c in [conv1, conv2, conv3] { c.workers = max(1, newValue) } }
    }

    private func prepare(_ shape: Shape) throws {
        guard shape.channels == channels else {
            throw FlowEngineError.invalidShape(what: conv1.weight.name, reason: "expected \(channels) channels, got \(shape)")
        }
        let n = shape.batch * shape.time
        h1.resize(hidden * n)
        h2.resize(hidden * n)
        h.resize(2 * nB * n)
        logS.resize(nB * n)
        scale.resize(nB * n)
    }

    /// Runs the conditioner on x_a (read in place) into `h`.
    private func conditioner(_ x: UnsafePointer<Float>, shape: Shape) {
        let B = shape.batch, T = shape.time
        conv1.forward(x: x, xBatchStride: channels * T, batch: B, time: T, y: h1.pointer)
        conv2.forward(x: h1.pointer, xBatchStride: hidden * T, batch: B, time: T, y: h2.pointer)
        conv3.forward(x: h2.pointer, xBatchStride: hidden * T, batch: B, time: T, y: h.pointer)
    }

    public func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape,
        logDet: UnsafeMutablePointer<Float>
    ) throws {
        try prepare(shape)
        conditioner(x, shape: shape)
        let T = shape.time, nA = self.nA, nB = self.nB, C = channels
        let p = Pointers(x: x, h: h.pointer, y: y, logS: logS.pointer, scale: scale.pointer, logDet: logDet)
        Parallel.forChunks(shape.batch, workers: workers) { items in   // items are disjoint per worker
            for b in items {
                let xb = p.x + b * C * T, yb = p.y + b * C * T
                yb.update(from: xb, count: nA * T)
                var sum: Float = 0
                for c in 0..<nB {
                    TanhAffine.forward(x: xb + (nA + c) * T, raw: p.h + (b * 2 * nB + c) * T,
                                       shift: p.h + (b * 2 * nB + nB + c) * T, count: T, y: yb + (nA + c) * T,
                                       logS: p.logS + (b * nB + c) * T, scale: p.scale + (b * nB + c) * T, logDetSum: &sum)
                }
                p.logDet[b] += sum
            }
        }
        forwardShape = shape
    }

    public func backward(
        x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dLogDet: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: Shape
    ) throws {
        guard forwardShape == shape else { throw FlowEngineError.backwardWithoutForward(conv1.weight.name) }
        let B = shape.batch, T = shape.time, nA = self.nA, nB = self.nB, n = B * T
        dh.resize(2 * nB * n)
        dh1.resize(hidden * n)
        dh2.resize(hidden * n)
        let C = channels
        let p = BackwardPointers(x: x, dy: dy, dx: dx, dh: dh.pointer, logS: logS.pointer, scale: scale.pointer,
                                 dLogDet: dLogDet)
        Parallel.forChunks(B, workers: workers) { items in   // items are disjoint per worker
            for b in items {
                let xb = p.x + b * C * T, dyb = p.dy + b * C * T, dxb = p.dx + b * C * T
                dxb.update(from: dyb, count: nA * T)
                let g = p.dLogDet[b]
                for c in 0..<nB {
                    TanhAffine.backward(x: xb + (nA + c) * T, dy: dyb + (nA + c) * T, logS: p.logS + (b * nB + c) * T,
                                        scale: p.scale + (b * nB + c) * T, dLogDet: g, count: T, dx: dxb + (nA + c) * T,
                                        dRaw: p.dh + (b * 2 * nB + c) * T, dShift: p.dh + (b * 2 * nB + nB + c) * T)
                }
            }
        }
        let d = dh.pointer
        try conv3.backward(x: h2.pointer, xBatchStride: hidden * T, y: h.pointer, dy: d, batch: B, time: T,
                           dx: dh2.pointer, dxBatchStride: hidden * T, accumulate: false)
        try conv2.backward(x: h1.pointer, xBatchStride: hidden * T, y: h2.pointer, dy: dh2.pointer, batch: B,
                           time: T, dx: dh1.pointer, dxBatchStride: hidden * T, accumulate: false)
        try conv1.backward(x: x, xBatchStride: channels * T, y: h1.pointer, dy: dh1.pointer, batch: B, time: T,
                           dx: dx, dxBatchStride: channels * T, accumulate: true)
        forwardShape = nil
    }

    public func inverse(_ y: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, shape: Shape) throws {
        try prepare(shape)
        conditioner(y, shape: shape)
        forwardShape = nil
        let T = shape.time, nA = self.nA, nB = self.nB
        let hp = h.pointer
        for b in 0..<shape.batch {
            let yb = y + b * channels * T, xb = x + b * channels * T
            xb.update(from: yb, count: nA * T)
            for c in 0..<nB {
                TanhAffine.inverse(y: yb + (nA + c) * T, raw: hp + (b * 2 * nB + c) * T, shift: hp + (b * 2 * nB + nB + c) * T,
                                   count: T, x: xb + (nA + c) * T)
            }
        }
    }
}
