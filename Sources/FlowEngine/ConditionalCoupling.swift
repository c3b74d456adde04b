import Foundation

/// Affine coupling of the variational dequantizer over z = (B, 2, H) = [even half, odd half],
/// conditioned on the codes c (B, 2, H) (scaled to [-1, 1)), optionally followed by two channels
/// of code steps (B, 4, H in all; see `NoiseFlow.Configuration.codeSteps`). Parity p = 0 transforms the odd
/// half given the even one, p = 1 the even half given the odd one:
///
///     a = z[:, p],  h = NN(concat[a (1 ch), c (2 ch)])        (B, 2, H)
///     logS = tanh(h[:, 0]),  z'[:, 1-p] = z[:, 1-p] * exp(logS) + h[:, 1],  z'[:, p] = a
///     logDet[b] += sum_t logS[b, t]
///
/// The element-wise part (forward, backward, inverse) is `TanhAffine` on the row z[:, 1-p] with
/// raw scale h[:, 0] and shift h[:, 1].
///
/// NN = Conv1d(3 -> hidden, k3, d1·s) ReLU, Conv1d(hidden -> hidden, k3, d2·s) ReLU,
/// Conv1d(hidden -> hidden, k3, d4·s) ReLU, Conv1d(hidden -> 2, k1) zero-initialised ("same"
/// padding), s = `dilationScale` (1 in the reference). Receptive field: 7·s half-rate steps on
/// each side. No gradient flows to c (codes are data).
public final class ConditionalCoupling {
    public let parity: Int
    public let hidden: Int
    public let dilationScale: Int
    /// Channels of the condition: 2 (codes, even and odd) or 4 (plus the code steps).
    public let conditionChannels: Int
    public let convs: [Conv1d]

    /// Half-rate steps on each side that one output depends on: (1 + 2 + 4)·s.
    public var receptiveHalfSteps: Int { 7 * dilationScale }

    private let input = Workspace(), dInput = Workspace()
    private var acts: [Workspace] = []
    private var grads: [Workspace] = []
    let logS = Workspace()
    private let scale = Workspace(), dh = Workspace()
    private var forwardShape: Shape? = nil

    public init(name: String, parity: Int, hidden: Int = 32, dilationScale: Int = 1, conditionChannels: Int = 2,
                seed: UInt64) throws {
        guard parity == 0 || parity == 1, hidden > 0, dilationScale >= 1, conditionChannels == 2 || conditionChannels == 4 else {
            throw FlowEngineError.invalidConfiguration("\(name): parity must be 0 or 1, hidden and dilation scale positive, 2 or 4 condition channels")
        }
        self.conditionChannels = conditionChannels
        self.parity = parity
        self.hidden = hidden
        self.dilationScale = dilationScale
        var seeds = SplitMix64(seed: seed)
        convs = [
            try Conv1d(name: name + ".conv1", inChannels: 1 + conditionChannels, outChannels: hidden, kernelSize: 3, dilation: dilationScale,
                       activation: .relu, initialization: .torchDefault(seed: seeds.next())),
            try Conv1d(name: name + ".conv2", inChannels: hidden, outChannels: hidden, kernelSize: 3, dilation: 2 * dilationScale,
                       activation: .relu, initialization: .torchDefault(seed: seeds.next())),
            try Conv1d(name: name + ".conv3", inChannels: hidden, outChannels: hidden, kernelSize: 3, dilation: 4 * dilationScale,
                       activation: .relu, initialization: .torchDefault(seed: seeds.next())),
            try Conv1d(name: name + ".conv4", inChannels: hidden, outChannels: 2, kernelSize: 1, initialization: .zeros),
        ]
        acts = convs.map { _ in Workspace() }
        grads = convs.map { _ in Workspace() }
    }

    public var parameters: [Parameter] { convs.flatMap { $0.parameters } }

    /// Threads over batch items used by the conditioner's convolutions.
    public var workers: Int {
        get { convs[0].workers }
        set { for c in convs { c.workers = max(1, newValue) } }
    }

    private func check(_ shape: Shape) throws {
        guard shape.channels == 2 else {
            throw FlowEngineError.invalidShape(what: convs[0].weight.name, reason: "expected 2 channels (even, odd), got \(shape)")
        }
    }

    /// Runs NN(concat[z[:, p], c]); the result is in acts.last (B, 2, H). c is (B, C, H),
    /// C = `conditionChannels`.
    private func conditioner(_ z: UnsafePointer<Float>, cond: UnsafePointer<Float>, shape: Shape) {
        let B = shape.batch, H = shape.time, cc = conditionChannels, ci = 1 + cc
        input.resize(ci * B * H)
        for (i, c) in convs.enumerated() { acts[i].resize(c.outChannels * B * H) }
        for b in 0..<B {
            (input.pointer + b * ci * H).update(from: z + (b * 2 + parity) * H, count: H)
            (input.pointer + b * ci * H + H).update(from: cond + b * cc * H, count: cc * H)
        }
        var x = UnsafePointer(input.pointer), stride = ci * H
        for (i, c) in convs.enumerated() {
            c.forward(x: x, xBatchStride: stride, batch: B, time: H, y: acts[i].pointer)
            x = UnsafePointer(acts[i].pointer)
            stride = c.outChannels * H
        }
    }

    /// y = f(x | cond) and logDet[b] += sum logS; all buffers (B, 2, H).
    public func forward(
        _ x: UnsafePointer<Float>, condition cond: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        shape: Shape, logDet: UnsafeMutablePointer<Float>
    ) throws {
        try check(shape)
        conditioner(x, cond: cond, shape: shape)
        let B = shape.batch, H = shape.time, q = 1 - parity
        logS.resize(B * H)
        scale.resize(B * H)
        let h = acts[convs.count - 1].pointer
        for b in 0..<B {
            (y + (b * 2 + parity) * H).update(from: x + (b * 2 + parity) * H, count: H)
            let h0 = h + b * 2 * H
            var sum: Float = 0
            TanhAffine.forward(x: x + (b * 2 + q) * H, raw: h0, shift: h0 + H, count: H, y: y + (b * 2 + q) * H,
                               logS: logS.pointer + b * H, scale: scale.pointer + b * H, logDetSum: &sum)
            logDet[b] += sum
        }
        forwardShape = shape
    }

    /// Backward of the latest `forward`: accumulates parameter gradients, writes dL/dx.
    public func backward(
        x: UnsafePointer<Float>, condition cond: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dLogDet: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: Shape
    ) throws {
        guard forwardShape == shape else { throw FlowEngineError.backwardWithoutForward(convs[0].weight.name) }
        let B = shape.batch, H = shape.time, q = 1 - parity
        dh.resize(2 * B * H)
        dInput.resize((1 + conditionChannels) * B * H)
        for (i, c) in convs.enumerated() { grads[i].resize(c.outChannels * B * H) }
        for b in 0..<B {
            let d0 = dh.pointer + b * 2 * H
            TanhAffine.backward(x: x + (b * 2 + q) * H, dy: dy + (b * 2 + q) * H, logS: logS.pointer + b * H,
                                scale: scale.pointer + b * H, dLogDet: dLogDet[b], count: H, dx: dx + (b * 2 + q) * H,
                                dRaw: d0, dShift: d0 + H)
        }
        // Back through NN: dh -> ... -> dInput (B, 1 + C, H).
        var upstream = UnsafePointer(dh.pointer)
        for i in stride(from: convs.count - 1, through: 0, by: -1) {
            let c = convs[i]
            let xin = i == 0 ? UnsafePointer(input.pointer) : UnsafePointer(acts[i - 1].pointer)
            let dxin = i == 0 ? dInput.pointer : grads[i - 1].pointer
            try c.backward(x: xin, xBatchStride: c.inChannels * H, y: acts[i].pointer, dy: upstream, batch: B, time: H,
                           dx: dxin, dxBatchStride: c.inChannels * H, accumulate: false)
            upstream = UnsafePointer(dxin)
        }
        for b in 0..<B {
            let dyp = dy + (b * 2 + parity) * H, dxp = dx + (b * 2 + parity) * H, di = dInput.pointer + b * (1 + conditionChannels) * H
            for t in 0..<H { dxp[t] = dyp[t] + di[t] }
        }
        forwardShape = nil
    }

    /// x = f^-1(y | cond).
    public func inverse(
        _ y: UnsafePointer<Float>, condition cond: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, shape: Shape
    ) throws {
        try check(shape)
        conditioner(y, cond: cond, shape: shape)
        forwardShape = nil
        let B = shape.batch, H = shape.time, q = 1 - parity
        let h = acts[convs.count - 1].pointer
        for b in 0..<B {
            (x + (b * 2 + parity) * H).update(from: y + (b * 2 + parity) * H, count: H)
            let h0 = h + b * 2 * H
            TanhAffine.inverse(y: y + (b * 2 + q) * H, raw: h0, shift: h0 + H, count: H, x: x + (b * 2 + q) * H)
        }
    }
}
