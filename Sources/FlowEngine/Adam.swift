import Foundation

/// Adam with bias correction, as `torch.optim.Adam` (no weight decay, no amsgrad):
///
///     m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
///     p -= lr_t * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
///
/// Options: global gradient-norm clipping (as `clip_grad_norm_`: if ||g||_2 > maxNorm, every
/// gradient is scaled by maxNorm / (||g||_2 + 1e-6)), linear warm-up and cosine decay:
///
///     lr_t = lr · min(1, t / W) · ½(1 + cos(π · min(t − 1, D) / D))     (t = 1, 2, …)
///
/// (the warm-up factor 1 when W = 0, the decay factor 1 when D = 0). With decay, the first step
/// has the full rate and step D has ½(1 + cos(π(D − 1)/D)) ≈ (π/2D)², so a run of D steps ends
/// with the parameters settled instead of at one noisy Adam step of constant size.
/// Moments are kept per parameter, matched by position in the list given at init.
public final class Adam {
    public struct Options: Sendable, Equatable {
        public var learningRate: Float
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float
        /// Clip the global L2 norm of all gradients to this value (nil: no clipping).
        public var maxGradNorm: Float?
        /// Linear warm-up over this many steps (0: none).
        public var warmupSteps: Int
        /// Cosine decay of the rate towards 0 over this many steps (0: none, a constant rate).
        public var decaySteps: Int

        public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                    maxGradNorm: Float? = nil, warmupSteps: Int = 0, decaySteps: Int = 0) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.maxGradNorm = maxGradNorm
            self.warmupSteps = warmupSteps
            self.decaySteps = decaySteps
        }
    }

    public let parameters: [Parameter]
    public var options: Options
    /// Number of steps taken so far (t of the bias correction).
    public private(set) var stepCount = 0
    private var m: [[Float]]
    private var v: [[Float]]

    public init(parameters: [Parameter], options: Options = Options()) throws {
        guard options.learningRate >= 0, (0..<1).contains(options.beta1), (0..<1).contains(options.beta2),
              options.epsilon >= 0, options.warmupSteps >= 0, options.decaySteps >= 0, (options.maxGradNorm ?? 1) > 0 else {
            throw FlowEngineError.invalidConfiguration("Adam options out of range: \(options)")
        }
        self.parameters = parameters
        self.options = options
        m = parameters.map { [Float](repeating: 0, count: $0.count) }
        v = m
    }

    /// First and second moments per parameter (for checkpoints that resume training exactly).
    public var moments: (m: [[Float]], v: [[Float]]) { (m, v) }

    /// Restores the step count and moments saved from an optimizer over the same parameters.
    public func restore(stepCount: Int, m: [[Float]], v: [[Float]]) throws {
        guard stepCount >= 0, m.count == parameters.count, v.count == parameters.count,
              zip(m, parameters).allSatisfy({ $0.count == $1.count }),
              zip(v, parameters).allSatisfy({ $0.count == $1.count }) else {
            throw FlowEngineError.invalidConfiguration("Adam state does not match the parameters")
        }
        self.stepCount = stepCount
        self.m = m
        self.v = v
    }

    /// L2 norm of all gradients together (accumulated in Double).
    public func gradientNorm() -> Double {
        var s = 0.0
        for p in parameters {
            p.grad.withUnsafeBufferPointer { g in
                var part: Float = 0
                for x in g { part += x * x }
                s += Double(part)
            }
        }
        return s.squareRoot()
    }

    /// Learning rate used by the next step (after warm-up and decay; the type's formula). With
    /// neither, exactly `learningRate`.
    public var currentLearningRate: Float {
        let t = stepCount + 1
        var lr = options.learningRate
        if options.warmupSteps > 0 { lr *= min(1, Float(t) / Float(options.warmupSteps)) }
        if options.decaySteps > 0 {
            let d = Double(options.decaySteps), s = min(Double(t - 1), d)
            lr *= Float(0.5 * (1 + Foundation.cos(Double.pi * s / d)))
        }
        return lr
    }

    /// One update of every parameter from its `grad`. Returns the gradient norm before clipping
    /// (computed only when clipping is on, else nil). Does not zero the gradients.
    @discardableResult
    public func step() -> Double? {
        var gradScale: Float = 1
        var norm: Double? = nil
        if let maxNorm = options.maxGradNorm {
            let n = gradientNorm()
            norm = n
            if n > Double(maxNorm) { gradScale = Float(Double(maxNorm) / (n + 1e-6)) }
        }
        let lr = currentLearningRate
        stepCount += 1
        let t = Double(stepCount)
        let b1 = options.beta1, b2 = options.beta2, eps = options.epsilon
        let bc1 = 1 - Foundation.pow(Double(b1), t)
        let bc2 = 1 - Foundation.pow(Double(b2), t)
        let stepSize = Float(Double(lr) / bc1)
        let invSqrtBc2 = Float(1 / bc2.squareRoot())
        for (i, p) in parameters.enumerated() {
            let n = p.count
            p.grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    m[i].withUnsafeMutableBufferPointer { mm in
                        v[i].withUnsafeMutableBufferPointer { vv in
                            for j in 0..<n {
                                let gj = g[j] * gradScale
                                let mj = b1 * mm[j] + (1 - b1) * gj
                                let vj = b2 * vv[j] + (1 - b2) * gj * gj
                                mm[j] = mj
                                vv[j] = vj
                                w[j] -= stepSize * mj / (vj.squareRoot() * invSqrtBc2 + eps)
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}
