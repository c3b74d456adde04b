import Foundation

/// Invertible 1x1 convolution over channels (Glow): a learned C x C matrix W applied at every
/// time step of (batch, channels, time):
///
///     y[b, :, t] = W x[b, :, t],   logDet[b] += T * log|det W|
///
/// log|det W| comes from an LU factorisation in Double; its gradient is W^-T, so
/// dW += (T * sum_b dLogDet[b]) * W^-T + sum_b dY_b X_b^T. Init: a random orthogonal matrix
/// (Gram-Schmidt QR of a seeded Gaussian matrix), log|det W| = 0 at start.
/// `weight` has PyTorch's shape (C, C) (the (C, C, 1) conv kernel without its last axis).
public final class InvConv1x1: InvertibleTransform {
    public let channels: Int
    public let weight: Parameter
    private var cachedLogAbsDet: Float = 0
    /// Threads over batch items (>= 1).
    public var workers = 1
    private let partials = Workspace()
    private var lu: DenseLU
    private var inverseScratch: [Double]

    public init(name: String, channels: Int, seed: UInt64) {
        self.channels = channels
        lu = DenseLU(capacity: channels)
        inverseScratch = [Double](repeating: 0, count: channels * channels)
        weight = Parameter(name: name + ".weight", shape: [channels, channels],
                           value: InvConv1x1.randomOrthogonal(channels, seed: seed))
    }

    public var parameters: [Parameter] { [weight] }

    /// Row-major C x C orthogonal matrix: Q of the QR factorisation (modified Gram-Schmidt on the
    /// columns) of a matrix of N(0, 1) draws.
    public static func randomOrthogonal(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        var a = (0..<(n * n)).map { _ in rng.nextGaussian() }
        for j in 0..<n {
            for k in 0..<j {
                var dot = 0.0
                for i in 0..<n { dot += a[i * n + j] * a[i * n + k] }
                for i in 0..<n { a[i * n + j] -= dot * a[i * n + k] }
            }
            var norm = 0.0
            for i in 0..<n { norm += a[i * n + j] * a[i * n + j] }
            norm = norm.squareRoot()
            for i in 0..<n { a[i * n + j] /= norm }
        }
        return a.map { Float($0) }
    }

    /// LU of the current weight, refactored in place (no allocation in the training loop).
    private func factorize() throws {
        try weight.value.withUnsafeBufferPointer { try lu.refactor($0.baseAddress!, what: weight.name) }
    }

    private func checkChannels(_ shape: Shape) throws {
        guard shape.channels == channels else {
            throw FlowEngineError.invalidShape(what: weight.name, reason: "expected \(channels) channels, got \(shape)")
        }
    }

    /// log|det W| in nats for the current weight.
    public func logAbsDet() throws -> Double {
        try factorize()
        return lu.logAbsDet
    }

    /// Buffers of one call, shared with the worker threads (each touches its own items).
    private struct Pointers: @unchecked Sendable {
        var w: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        var dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, partial: UnsafeMutablePointer<Float>
    }

    public func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape,
        logDet: UnsafeMutablePointer<Float>
    ) throws {
        try checkChannels(shape)
        try factorize()
        cachedLogAbsDet = Float(lu.logAbsDet)
        let C = channels, T = shape.time
        weight.value.withUnsafeBufferPointer { w in
            let p = Pointers(w: w.baseAddress!, x: x, y: y, dy: x, dx: y, partial: y)
            Parallel.forChunks(shape.batch, workers: workers) { items in
                for b in items {
                    BLAS.gemm(m: C, n: T, k: C, a: p.w, lda: C, b: p.x + b * C * T, ldb: T, beta: 0, c: p.y + b * C * T, ldc: T)
                }
            }
        }
        for b in 0..<shape.batch { logDet[b] += Float(T) * cachedLogAbsDet }
    }

    public func backward(
        x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dLogDet: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: Shape
    ) throws {
        try checkChannels(shape)
        let C = channels, T = shape.time, B = shape.batch
        try factorize()
        lu.writeInverse(into: &inverseScratch)
        var dLD: Float = 0
        for b in 0..<B { dLD += dLogDet[b] }
        let scale = Float(T) * dLD
        let nw = max(1, min(workers, B))
        partials.resize(nw * C * C)
        partials.zero()
        weight.value.withUnsafeBufferPointer { w in
            let p = Pointers(w: w.baseAddress!, x: x, y: UnsafeMutablePointer(mutating: y), dy: dy, dx: dx,
                             partial: partials.pointer)
            Parallel.run(nw) { wk in
                for b in (wk * B / nw)..<((wk + 1) * B / nw) {
                    // dx_b = W^T dy_b ; dW += dy_b x_b^T (per-worker partial)
                    BLAS.gemm(transA: true, m: C, n: T, k: C, a: p.w, lda: C, b: p.dy + b * C * T, ldb: T,
                              beta: 0, c: p.dx + b * C * T, ldc: T)
                    BLAS.gemm(transB: true, m: C, n: C, k: T, a: p.dy + b * C * T, lda: T, b: p.x + b * C * T, ldb: T,
                              beta: 1, c: p.partial + wk * C * C, ldc: C)
                }
            }
        }
        let inv = inverseScratch
        weight.grad.withUnsafeMutableBufferPointer { dw in
            for wk in 0..<nw { Kernels.addInPlace(dw.baseAddress!, partials.pointer + wk * C * C, C * C) }
            // d log|det W| / dW = W^-T: (W^-T)[i, j] = inv[j, i].
            for i in 0..<C { for j in 0..<C { dw[i * C + j] += scale * Float(inv[j * C + i]) } }
        }
    }

    public func inverse(_ y: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, shape: Shape) throws {
        try checkChannels(shape)
        let C = channels, T = shape.time
        try factorize()
        let inv = lu.inverse().map { Float($0) }
        inv.withUnsafeBufferPointer { w in
            for b in 0..<shape.batch {
                BLAS.gemm(m: C, n: T, k: C, a: w.baseAddress!, lda: C, b: y + b * C * T, ldb: T,
                          beta: 0, c: x + b * C * T, ldc: T)
            }
        }
    }
}
