import Foundation

/// The main normalizing flow on waveforms (the reference `MainFlow`):
///
///     v (B, T)  --squeeze G-->  z0 (B, G, T/G)  --K x [ActNorm, InvConv1x1, AffineCoupling]-->  z
///     log p(v) = log N(z) + sum of all log-determinants      (nats per batch item)
///
/// Squeeze: channel c of step t is sample G t + c (T must be a multiple of G). Defaults: G = 8,
/// K = 6 steps, conditioner hidden width 64, kernel 3, standard-normal base.
///
/// Training step: `forward` (keeps every activation), `backward(dLogp:)` (accumulates parameter
/// gradients and returns dL/dv, the gradient needed by an upstream dequantizer), then an
/// optimiser step on `parameters`. Activations and workspaces are allocated once per (B, T).
///
/// A uniform-dequantization training step (loss = negative ELBO in bits per sample):
///
///     BLAS.setThreads(1); flow.workers = 2            // fastest on 2 cores (see flowbench)
///     flow.zeroGradients()
///     try flow.forward(v, batch: B, length: T, logp: &logp)      // v = (x + u) / K - 0.5
///     let g = [Float](repeating: -1 / (Float(B * T) * log(2)), count: B)   // dLoss/dlogp
///     try flow.backward(dLogp: g, inputGradient: &dv)           // dv needed only upstream
///     adam.step()
///
/// Not thread-safe: one flow per thread (its own `workers` parallelise inside a call).
public final class WaveformFlow {
    /// Architecture; stored in checkpoints and compared on load.
    public struct Configuration: Codable, Hashable, Sendable {
        public var squeeze: Int
        public var steps: Int
        public var hidden: Int
        public var kernelSize: Int

        public init(squeeze: Int = 8, steps: Int = 6, hidden: Int = 64, kernelSize: Int = 3) {
            self.squeeze = squeeze
            self.steps = steps
            self.hidden = hidden
            self.kernelSize = kernelSize
        }

        /// Length granularity: T must be a multiple of this.
        public var lengthMultiple: Int { squeeze }
    }

    public let configuration: Configuration
    public let actNorms: [ActNorm]
    public let invConvs: [InvConv1x1]
    public let couplings: [AffineCoupling]
    /// Flow layers in application order (ActNorm, InvConv1x1, AffineCoupling per step).
    public let transforms: [InvertibleTransform]
    public let base = BaseDistribution.standardNormal

    /// acts[0] = squeezed input, acts[i + 1] = output of transforms[i].
    private var acts: [Workspace] = []
    private let gradA = Workspace(), gradB = Workspace()
    private let logDet = Workspace()
    private var forwardShape: Shape? = nil

    /// Builds the flow; all random init (orthogonal W, conv weights) derives from `seed`.
    public init(configuration: Configuration = Configuration(), seed: UInt64) throws {
        let c = configuration
        guard c.squeeze >= 2, c.steps >= 1, c.hidden >= 1, c.kernelSize >= 1, c.kernelSize % 2 == 1 else {
            throw FlowEngineError.invalidConfiguration(
                "WaveformFlow needs squeeze >= 2, steps >= 1, hidden >= 1, odd kernel; got \(c)")
        }
        self.configuration = c
        var seeds = SplitMix64(seed: seed)
        var a: [ActNorm] = [], w: [InvConv1x1] = [], k: [AffineCoupling] = []
        var all: [InvertibleTransform] = []
        for s in 0..<c.steps {
            let an = ActNorm(name: "step\(s).actnorm", channels: c.squeeze)
            let ic = InvConv1x1(name: "step\(s).invconv", channels: c.squeeze, seed: seeds.next())
            let cp = try AffineCoupling(name: "step\(s).coupling", channels: c.squeeze, hidden: c.hidden,
                                        kernelSize: c.kernelSize, seed: seeds.next())
            a.append(an); w.append(ic); k.append(cp)
            all += [an, ic, cp] as [InvertibleTransform]
        }
        actNorms = a
        invConvs = w
        couplings = k
        transforms = all
        parameters = all.flatMap { $0.parameters }
        acts = (0...all.count).map { _ in Workspace() }
    }

    /// Threads over batch items in the convolutions (default 1). With more than one, set
    /// OpenBLAS to 1 thread (`BLAS.setThreads(1)`) so the two levels do not oversubscribe cores.
    public var workers: Int {
        get { couplings.first?.workers ?? 1 }
        set {
            let w = max(1, newValue)
            for c in couplings { c.workers = w }
            for a in actNorms { a.workers = w }
            for i in invConvs { i.workers = w }
        }
    }

    /// All trainable parameters with unique dotted names, in a fixed order (built once).
    public let parameters: [Parameter]

    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    private func latentShape(batch: Int, length: Int) throws -> Shape {
        guard batch > 0, length > 0, length % configuration.squeeze == 0 else {
            throw FlowEngineError.invalidShape(
                what: "WaveformFlow input", reason: "batch \(batch), length \(length): need length a positive multiple of \(configuration.squeeze)")
        }
        return Shape(batch: batch, channels: configuration.squeeze, time: length / configuration.squeeze)
    }

    /// log p(v) per batch item in nats. `v` is (batch, length) contiguous, `logp` has `batch`
    /// elements (written). Keeps activations for `backward`.
    public func forward(_ v: UnsafePointer<Float>, batch: Int, length: Int, logp: UnsafeMutablePointer<Float>) throws {
        let shape = try latentShape(batch: batch, length: length)
        forwardShape = nil
        for a in acts { a.resize(shape.count) }
        logDet.resize(batch)
        logDet.zero()
        Rearrange.squeeze(v, acts[0].pointer, shape: Shape(batch: batch, channels: 1, time: length),
                          factor: configuration.squeeze)
        for (i, t) in transforms.enumerated() {
            try t.forward(acts[i].pointer, acts[i + 1].pointer, shape: shape, logDet: logDet.pointer)
        }
        for b in 0..<batch { logp[b] = logDet.pointer[b] }
        base.addLogProb(acts[transforms.count].pointer, batch: batch, itemCount: shape.itemCount, into: logp)
        forwardShape = shape
    }

    /// Backward of the latest `forward`: given dL/dlogp per item, accumulates every parameter's
    /// gradient and writes dL/dv (batch, length) into `inputGradient` if given.
    public func backward(dLogp: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?) throws {
        guard let shape = forwardShape else { throw FlowEngineError.backwardWithoutForward("WaveformFlow") }
        gradA.resize(shape.count)
        gradB.resize(shape.count)
        var g = gradA, other = gradB
        base.logProbBackward(acts[transforms.count].pointer, dLogp: dLogp, batch: shape.batch,
                             itemCount: shape.itemCount, dz: g.pointer)
        for i in stride(from: transforms.count - 1, through: 0, by: -1) {
            try transforms[i].backward(x: acts[i].pointer, y: acts[i + 1].pointer, dy: g.pointer, dLogDet: dLogp,
                                       dx: other.pointer, shape: shape)
            swap(&g, &other)
        }
        if let inputGradient {
            Rearrange.unsqueeze(g.pointer, inputGradient, shape: Shape(batch: shape.batch, channels: 1, time: shape.time * configuration.squeeze),
                                factor: configuration.squeeze)
        }
        forwardShape = nil
    }

    /// z -> v: `z` is (batch, G, length/G) contiguous (the squeezed latent), `v` (batch, length).
    public func inverse(_ z: UnsafePointer<Float>, batch: Int, length: Int, v: UnsafeMutablePointer<Float>) throws {
        let shape = try latentShape(batch: batch, length: length)
        forwardShape = nil
        let a = Workspace(count: shape.count), b = Workspace(count: shape.count)
        a.pointer.update(from: z, count: shape.count)
        for t in transforms.reversed() {
            try t.inverse(a.pointer, b.pointer, shape: shape)
            a.pointer.update(from: b.pointer, count: shape.count)
        }
        Rearrange.unsqueeze(a.pointer, v, shape: Shape(batch: batch, channels: 1, time: length), factor: configuration.squeeze)
    }

    /// Invalidates the cached forward pass (after parameters change outside training).
    func forgetForward() { forwardShape = nil }

    // MARK: Array conveniences (allocate; for tests, tools and evaluation)

    /// log p(v) per item (nats) for `v` of shape (batch, v.count / batch).
    public func forward(_ v: [Float], batch: Int) throws -> [Float] {
        guard batch > 0, v.count % batch == 0 else {
            throw FlowEngineError.sizeMismatch(what: "WaveformFlow input (batch \(batch))", expected: batch * (v.count / max(batch, 1)), actual: v.count)
        }
        var out = [Float](repeating: 0, count: batch)
        try v.withUnsafeBufferPointer { vp in
            try out.withUnsafeMutableBufferPointer { try forward(vp.baseAddress!, batch: batch, length: v.count / batch, logp: $0.baseAddress!) }
        }
        return out
    }

    /// Accumulates parameter gradients for dL/dlogp and returns dL/dv (batch, length).
    public func backward(dLogp: [Float]) throws -> [Float] {
        guard let shape = forwardShape else { throw FlowEngineError.backwardWithoutForward("WaveformFlow") }
        guard dLogp.count == shape.batch else {
            throw FlowEngineError.sizeMismatch(what: "WaveformFlow dLogp", expected: shape.batch, actual: dLogp.count)
        }
        var dv = [Float](repeating: 0, count: shape.count)
        try dv.withUnsafeMutableBufferPointer { d in try backward(dLogp: dLogp, inputGradient: d.baseAddress!) }
        return dv
    }

    /// The latent z (batch, G, length/G) of the latest `forward` (valid until the next call).
    public func latent() throws -> [Float] {
        guard forwardShape != nil else { throw FlowEngineError.backwardWithoutForward("WaveformFlow.latent") }
        return acts[transforms.count].array
    }

    /// v = f^-1(z) for a latent z (batch, G, length/G) given as a flat array.
    public func inverse(_ z: [Float], batch: Int) throws -> [Float] {
        guard batch > 0, z.count % batch == 0 else {
            throw FlowEngineError.sizeMismatch(what: "WaveformFlow latent (batch \(batch))", expected: batch * (z.count / max(batch, 1)), actual: z.count)
        }
        var v = [Float](repeating: 0, count: z.count)
        try z.withUnsafeBufferPointer { zp in
            try v.withUnsafeMutableBufferPointer { try inverse(zp.baseAddress!, batch: batch, length: z.count / batch, v: $0.baseAddress!) }
        }
        return v
    }

    /// Draws v = f^-1(z), z ~ N(0, temperature^2 I), shape (batch, length).
    public func sample(batch: Int, length: Int, temperature: Float = 1, seed: UInt64) throws -> [Float] {
        _ = try latentShape(batch: batch, length: length)
        var rng = SplitMix64(seed: seed)
        let z = (0..<(batch * length)).map { _ in temperature * Float(rng.nextGaussian()) }
        return try inverse(z, batch: batch)
    }
}

// MARK: Checkpoints

extension WaveformFlow {
    static let modelName = "WaveformFlow"
    static let actNormStateName = "actnorm.initialized"

    /// Architecture as stored in checkpoints.
    public var architecture: [String: Int] {
        let c = configuration
        return ["squeeze": c.squeeze, "steps": c.steps, "hidden": c.hidden, "kernelSize": c.kernelSize]
    }

    /// Snapshot of every parameter (PyTorch shapes) plus the ActNorm init flags (1 = initialised).
    public func checkpoint() -> Checkpoint {
        var arrays = parameters.map { Checkpoint.NamedArray(name: $0.name, shape: $0.shape, values: $0.value) }
        arrays.append(.init(name: Self.actNormStateName, shape: [actNorms.count], values: actNorms.map { $0.isInitialized ? 1 : 0 }))
        return Checkpoint(model: Self.modelName, architecture: architecture, arrays: arrays)
    }

    /// Restores parameters and ActNorm init flags from `checkpoint`; the model name,
    /// architecture and every array's name and shape must match exactly (nothing is modified
    /// when a check fails; `Checkpoint.restore`).
    public func load(_ checkpoint: Checkpoint) throws {
        let extras = try checkpoint.restore(model: Self.modelName, architecture: architecture, into: parameters,
                                            extras: [(Self.actNormStateName, actNorms.count)])
        for (a, f) in zip(actNorms, extras[0]) { a.isInitialized = f != 0 }
        forgetForward()
    }

    /// Writes a checkpoint atomically to `path`.
    public func save(to path: String) throws { try checkpoint().write(to: path) }

    /// Reads `path` and restores the parameters (see `load(_:)`).
    public func load(from path: String) throws { try load(Checkpoint.read(from: path)) }
}
