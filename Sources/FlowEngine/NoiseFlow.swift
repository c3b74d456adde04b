import Foundation

/// The variational dequantizer q(u | x) of the reference (`Dequantizer`): a conditional flow
/// from base noise eps to u in (0, 1)^T, conditioned on the codes.
///
///     c = 2 x / K - 1, viewed as (B, 2, T/2) = [even codes, odd codes] (the caller passes c (B, T))
///     eps (B, 2, T/2) ~ base (standard normal or standard logistic), [even half, odd half]
///     z = L couplings (parity 0, 1, 0, 1, ...) of eps given c
///     u = sigmoid(z), returned in time order (B, T): u[b, 2t + h] = sigmoid(z[b, h, t])
///     log q(u | x) = log base(eps) - sum log-scales - sum log s'(z)        (nats per item)
///
/// With the standard logistic base and the zero-initialised couplings, u = sigmoid(eps) is exactly
/// U(0, 1) and log q = 0. `backward(dU:dLogq:)` accumulates the parameters' gradients for
/// upstream gradients dL/du (B, T) and dL/dlogq (B); eps and c receive none.
public final class NoiseFlow {
    public struct Configuration: Codable, Hashable, Sendable {
        public var layers: Int
        public var hidden: Int
        public var base: BaseDistribution
        /// Context levels C: couplings 2j and 2j + 1 use dilations (1, 2, 4)·4^(j mod C), so q
        /// sees further along the waveform at no extra cost per sample. 1 is the reference.
        public var contextLevels: Int
        /// Code steps as extra condition channels: 0 (reference) for none, or K/2, with which
        /// the step into sample t, d_t = tanh((c_t − c_{t−1})·K/2 / 4) (d_0 = 0), is one quarter
        /// of a bin per unit before the squashing. c = 2x/K − 1 moves by only 2/K per bin, which
        /// the conditioner's first layer would need weights of order K to resolve; the steps hand
        /// it the fine structure of quiet passages at unit scale.
        public var codeSteps: Int

        public init(layers: Int = 4, hidden: Int = 32, base: BaseDistribution = .standardNormal, contextLevels: Int = 1,
                    codeSteps: Int = 0) {
            self.layers = layers
            self.hidden = hidden
            self.base = base
            self.contextLevels = contextLevels
            self.codeSteps = codeSteps
        }

        /// Channels of the couplings' condition: 2, or 4 with code steps.
        public var conditionChannels: Int { codeSteps > 0 ? 4 : 2 }

        /// Dilation scale of coupling i.
        public func dilationScale(layer i: Int) -> Int {
            var s = 1
            for _ in 0..<((i / 2) % max(1, contextLevels)) { s *= 4 }
            return s
        }

        /// Samples on each side of a position that its u depends on (the couplings' receptive
        /// fields add up; one half-rate step is two samples).
        public var receptiveField: Int {
            (0..<layers).reduce(0) { $0 + 2 * 7 * dilationScale(layer: $1) } + (codeSteps > 0 ? 1 : 0)
        }
    }

    public let configuration: Configuration
    public let couplings: [ConditionalCoupling]

    private var zs: [Workspace] = []          // zs[0] = eps, zs[i + 1] = output of coupling i
    private let cond = Workspace(), logDet = Workspace(), uBuf = Workspace()
    private let gA = Workspace(), gB = Workspace(), negDLogq = Workspace()
    private var forwardShape: Shape? = nil

    public init(configuration: Configuration = Configuration(), seed: UInt64) throws {
        guard configuration.layers >= 1 else { throw FlowEngineError.invalidConfiguration("NoiseFlow needs at least one layer") }
        guard configuration.codeSteps >= 0 && configuration.codeSteps <= 1 << 23 else {
            throw FlowEngineError.invalidConfiguration("NoiseFlow code-step scale must be 0 to 2^23, got \(configuration.codeSteps)")
        }
        guard (1...4).contains(configuration.contextLevels) else {
            throw FlowEngineError.invalidConfiguration("NoiseFlow context levels must be 1 to 4, got \(configuration.contextLevels)")
        }
        self.configuration = configuration
        var seeds = SplitMix64(seed: seed)
        couplings = try (0..<configuration.layers).map {
            try ConditionalCoupling(name: "layer\($0)", parity: $0 % 2, hidden: configuration.hidden,
                                    dilationScale: configuration.dilationScale(layer: $0),
                                    conditionChannels: configuration.conditionChannels, seed: seeds.next())
        }
        parameters = couplings.flatMap { $0.parameters }
        zs = (0...configuration.layers).map { _ in Workspace() }
    }

    /// All trainable parameters with unique dotted names, in a fixed order (built once).
    public let parameters: [Parameter]
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Threads over batch items in the convolutions (see `WaveformFlow.workers`).
    public var workers: Int {
        get { couplings[0].workers }
        set { for c in couplings { c.workers = newValue } }
    }

    private func halfShape(batch: Int, length: Int) throws -> Shape {
        guard batch > 0, length > 0, length % 2 == 0 else {
            throw FlowEngineError.invalidShape(what: "NoiseFlow", reason: "batch \(batch), length \(length): need a positive even length")
        }
        return Shape(batch: batch, channels: 2, time: length / 2)
    }

    /// Fills `eps` (B, 2, T/2) with draws from the configured base distribution.
    public func drawBaseNoise(_ eps: UnsafeMutablePointer<Float>, count: Int, rng: inout SplitMix64) {
        switch configuration.base {
        case .standardNormal: for i in 0..<count { eps[i] = Float(rng.nextGaussian()) }
        case .standardLogistic: for i in 0..<count { eps[i] = Float(rng.nextLogistic()) }
        }
    }

    /// u = q-sample for base noise `eps` (B, 2, T/2) and conditioning c (B, T) (codes scaled to
    /// [-1, 1), time order). Writes u (B, T) in time order and log q(u | x) per item (nats).
    public func forward(
        eps: UnsafePointer<Float>, condition c: UnsafePointer<Float>, batch: Int, length: Int,
        u: UnsafeMutablePointer<Float>, logq: UnsafeMutablePointer<Float>
    ) throws {
        let shape = try halfShape(batch: batch, length: length)
        forwardShape = nil
        for z in zs { z.resize(shape.count) }
        let cc = configuration.conditionChannels
        cond.resize(cc * batch * shape.time)
        uBuf.resize(shape.count)
        logDet.resize(batch)
        logDet.zero()
        buildCondition(c, batch: batch, length: length)
        zs[0].pointer.update(from: eps, count: shape.count)
        for i in 0..<batch { logq[i] = 0 }
        configuration.base.addLogProb(eps, batch: batch, itemCount: shape.itemCount, into: logq)
        for (i, cp) in couplings.enumerated() {
            try cp.forward(zs[i].pointer, condition: cond.pointer, zs[i + 1].pointer, shape: shape, logDet: logDet.pointer)
        }
        let z = zs[couplings.count].pointer
        Pointwise.sigmoid(z, uBuf.pointer, count: shape.count)
        for b in 0..<batch {
            let zb = z + b * shape.itemCount
            var s = 0.0
            for i in 0..<shape.itemCount {
                let a = abs(zb[i])
                s += Double(-a - 2 * Foundation.log1pf(Foundation.expf(-a)))
            }
            logq[b] -= logDet.pointer[b] + Float(s)
        }
        Rearrange.unsqueeze(uBuf.pointer, u, shape: Shape(batch: batch, channels: 1, time: length), factor: 2)
        forwardShape = shape
    }

    /// cond (B, C, T/2) from c (B, T): [even c, odd c] and, with code steps, [even d, odd d].
    private func buildCondition(_ c: UnsafePointer<Float>, batch: Int, length: Int) {
        let H = length / 2, cc = configuration.conditionChannels
        let g = Float(configuration.codeSteps) / 4
        for b in 0..<batch {
            let src = c + b * length, dst = cond.pointer + b * cc * H
            for j in 0..<H {
                dst[j] = src[2 * j]
                dst[H + j] = src[2 * j + 1]
            }
            if cc == 4 {
                for j in 0..<H {
                    dst[2 * H + j] = j == 0 ? 0 : Foundation.tanhf((src[2 * j] - src[2 * j - 1]) * g)
                    dst[3 * H + j] = Foundation.tanhf((src[2 * j + 1] - src[2 * j]) * g)
                }
            }
        }
    }

    /// Per-sample terms of log q(u | x) of the latest `forward`, in time order (B, T), summing to
    /// each item's log q: sample t = 2j + c (half c, position j) gets
    /// log base(eps[c, j]) − Σ_layers that transform half c of logS[j] − log σ'(z[c, j]).
    /// Valid until the next `backward`.
    public func logQPerSample(_ out: UnsafeMutablePointer<Float>) throws {
        guard let shape = forwardShape else { throw FlowEngineError.backwardWithoutForward("NoiseFlow.logQPerSample") }
        let H = shape.time
        let eps = zs[0].pointer, z = zs[couplings.count].pointer
        for b in 0..<shape.batch {
            for c in 0..<2 {
                let row = (b * 2 + c) * H
                for j in 0..<H {
                    let e = eps[row + j]
                    var v: Float
                    switch configuration.base {
                    case .standardNormal: v = -0.5 * e * e - BaseDistribution.halfLog2Pi
                    case .standardLogistic:
                        let a = abs(e)
                        v = -a - 2 * Foundation.log1pf(Foundation.expf(-a))
                    }
                    for cp in couplings where cp.parity == 1 - c { v -= cp.logS.pointer[b * H + j] }
                    let a = abs(z[row + j])
                    v += a + 2 * Foundation.log1pf(Foundation.expf(-a))
                    out[b * 2 * H + 2 * j + c] = v
                }
            }
        }
    }

    /// Backward of the latest `forward` for dL/du (B, T) and dL/dlogq (B): accumulates the
    /// parameters' gradients.
    public func backward(dU: UnsafePointer<Float>, dLogq: UnsafePointer<Float>) throws {
        guard let shape = forwardShape else { throw FlowEngineError.backwardWithoutForward("NoiseFlow") }
        let n = shape.itemCount
        gA.resize(shape.count)
        gB.resize(shape.count)
        // dL/dz = dU * u (1 - u) - dLogq * (1 - 2 u)   (log q has -log s'(z), d log s'/dz = 1 - 2 s)
        Rearrange.squeeze(dU, gB.pointer, shape: Shape(batch: shape.batch, channels: 1, time: 2 * shape.time), factor: 2)
        let u = uBuf.pointer
        for b in 0..<shape.batch {
            let g = dLogq[b]
            for i in (b * n)..<((b + 1) * n) {
                let ui = u[i]
                gA.pointer[i] = gB.pointer[i] * ui * (1 - ui) - g * (1 - 2 * ui)
            }
        }
        // log q has -logDet: dL/dlogDet = -dLogq.
        negDLogq.resize(shape.batch)
        for b in 0..<shape.batch { negDLogq.pointer[b] = -dLogq[b] }
        var g = gA, other = gB
        for i in stride(from: couplings.count - 1, through: 0, by: -1) {
            try couplings[i].backward(x: zs[i].pointer, condition: cond.pointer, dy: g.pointer, dLogDet: negDLogq.pointer,
                                      dx: other.pointer, shape: shape)
            swap(&g, &other)
        }
        forwardShape = nil
    }

    // MARK: Array conveniences

    /// Returns (u (B, T) time order, log q per item) for eps (B, 2, T/2) and c (B, T).
    public func forward(eps: [Float], condition c: [Float], batch: Int) throws -> (u: [Float], logq: [Float]) {
        guard batch > 0, eps.count == c.count, eps.count % batch == 0 else {
            throw FlowEngineError.sizeMismatch(what: "NoiseFlow eps vs condition", expected: c.count, actual: eps.count)
        }
        var u = [Float](repeating: 0, count: eps.count), lq = [Float](repeating: 0, count: batch)
        try u.withUnsafeMutableBufferPointer { up in
            try lq.withUnsafeMutableBufferPointer { lp in
                try forward(eps: eps, condition: c, batch: batch, length: eps.count / batch, u: up.baseAddress!, logq: lp.baseAddress!)
            }
        }
        return (u, lq)
    }

    public func backward(dU: [Float], dLogq: [Float]) throws {
        guard let shape = forwardShape else { throw FlowEngineError.backwardWithoutForward("NoiseFlow") }
        guard dU.count == shape.count, dLogq.count == shape.batch else {
            throw FlowEngineError.sizeMismatch(what: "NoiseFlow backward dU", expected: shape.count, actual: dU.count)
        }
        try dU.withUnsafeBufferPointer { du in
            try dLogq.withUnsafeBufferPointer { try backward(dU: du.baseAddress!, dLogq: $0.baseAddress!) }
        }
    }

    // MARK: Checkpoints

    static let modelName = "NoiseFlow"

    /// The reference's keys; `contextLevels` and `codeSteps` only when used, so reference models'
    /// files are unchanged.
    public var architecture: [String: Int] {
        var a = ["layers": configuration.layers, "hidden": configuration.hidden,
                 "base": configuration.base == .standardNormal ? 0 : 1]
        if configuration.contextLevels != 1 { a["contextLevels"] = configuration.contextLevels }
        if configuration.codeSteps != 0 { a["codeSteps"] = configuration.codeSteps }
        return a
    }

    public func checkpoint() -> Checkpoint {
        Checkpoint(model: Self.modelName, architecture: architecture,
                   arrays: parameters.map { .init(name: $0.name, shape: $0.shape, values: $0.value) })
    }

    /// Restores parameters; model, architecture, names and shapes must match exactly (nothing is
    /// modified when a check fails; `Checkpoint.restore`).
    public func load(_ checkpoint: Checkpoint) throws {
        _ = try checkpoint.restore(model: Self.modelName, architecture: architecture, into: parameters)
        forwardShape = nil
    }

    public func save(to path: String) throws { try checkpoint().write(to: path) }
    public func load(from path: String) throws { try load(Checkpoint.read(from: path)) }
}
