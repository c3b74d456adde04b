import Foundation

/// Activation normalisation (Glow): per-channel affine map on (batch, channels, time)
///
///     y[b, c, t] = (x[b, c, t] + bias[c]) * exp(logs[c]),   logDet[b] += T * sum_c logs[c]
///
/// Data-dependent init on the first `forward` while `isInitialized` is false: bias = -mean_c,
/// logs = -log(std_c + 1e-6), mean and unbiased std (n - 1 divisor, like `torch.std`) over batch
/// and time, so the first batch leaves with zero mean and unit variance per channel.
/// Parameters `bias` and `logs` have PyTorch's shape (1, C, 1).
public final class ActNorm: InvertibleTransform {
    public let channels: Int
    public let bias: Parameter
    public let logs: Parameter
    /// False until the data-dependent init has run (or a checkpoint set it).
    public var isInitialized = false
    /// Threads over batch items (>= 1).
    public var workers = 1
    private let partials = Workspace()

    public init(name: String, channels: Int) {
        self.channels = channels
        bias = Parameter(name: name + ".bias", shape: [1, channels, 1])
        logs = Parameter(name: name + ".logs", shape: [1, channels, 1])
    }

    public var parameters: [Parameter] { [bias, logs] }

    private func checkChannels(_ shape: Shape) throws {
        guard shape.channels == channels else {
            throw FlowEngineError.invalidShape(what: bias.name, reason: "expected \(channels) channels, got \(shape)")
        }
    }

    private func initialize(from x: UnsafePointer<Float>, shape: Shape) {
        let T = shape.time, n = shape.batch * T
        for c in 0..<channels {
            var sum = 0.0
            for b in 0..<shape.batch {
                let p = x + (b * channels + c) * T
                for t in 0..<T { sum += Double(p[t]) }
            }
            let mean = sum / Double(n)
            var ss = 0.0
            for b in 0..<shape.batch {
                let p = x + (b * channels + c) * T
                for t in 0..<T {
                    let d = Double(p[t]) - mean
                    ss += d * d
                }
            }
            let std = n > 1 ? (ss / Double(n - 1)).squareRoot() : 0
            bias.value[c] = Float(-mean)
            logs.value[c] = Float(-Foundation.log(std + 1e-6))
        }
        isInitialized = true
    }

    /// Buffers of one call, shared with the worker threads (each touches its own items).
    private struct Pointers: @unchecked Sendable {
        var x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
        var dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>
        var bias: UnsafePointer<Float>, logs: UnsafePointer<Float>
        var partial: UnsafeMutablePointer<Float>, logDet: UnsafeMutablePointer<Float>
    }

    public func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape,
        logDet: UnsafeMutablePointer<Float>
    ) throws {
        try checkChannels(shape)
        if !isInitialized { initialize(from: x, shape: shape) }
        let T = shape.time, C = channels
        var sumLogs: Float = 0
        for c in 0..<channels { sumLogs += logs.value[c] }
        let ldPerItem = Float(T) * sumLogs
        bias.value.withUnsafeBufferPointer { bp in
            logs.value.withUnsafeBufferPointer { lp in
                let p = Pointers(x: x, y: y, dy: x, dx: y, bias: bp.baseAddress!, logs: lp.baseAddress!,
                                 partial: y, logDet: logDet)
                Parallel.forChunks(shape.batch, workers: workers) { items in
                    for b in items {
                        for c in 0..<C {
                            let o = (b * C + c) * T
                            let bc = p.bias[c], s = Foundation.expf(p.logs[c])
                            for t in 0..<T { p.y[o + t] = (p.x[o + t] + bc) * s }
                        }
                        p.logDet[b] += ldPerItem
                    }
                }
            }
        }
    }

    public func backward(
        x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dLogDet: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: Shape
    ) throws {
        try checkChannels(shape)
        let T = shape.time, C = channels, B = shape.batch
        var dLD: Float = 0
        for b in 0..<B { dLD += dLogDet[b] }
        let nw = max(1, min(workers, B))
        // Per worker and channel: sum dy, sum dy * y.
        partials.resize(nw * 2 * C)
        partials.zero()
        logs.value.withUnsafeBufferPointer { lp in
            let p = Pointers(x: x, y: UnsafeMutablePointer(mutating: y), dy: dy, dx: dx, bias: lp.baseAddress!,
                             logs: lp.baseAddress!, partial: partials.pointer, logDet: dx)
            Parallel.run(nw) { w in
                let part = p.partial + w * 2 * C
                for b in (w * B / nw)..<((w + 1) * B / nw) {
                    for c in 0..<C {
                        let o = (b * C + c) * T
                        let s = Foundation.expf(p.logs[c])
                        for t in 0..<T { p.dx[o + t] = p.dy[o + t] * s }
                        part[c] += Kernels.sum(p.dy + o, T)
                        part[C + c] += Kernels.dot(p.dy + o, p.y + o, T)
                    }
                }
            }
        }
        for c in 0..<C {
            var sdy = 0.0, sdyy = 0.0
            for w in 0..<nw {
                sdy += Double(partials.pointer[w * 2 * C + c])
                sdyy += Double(partials.pointer[w * 2 * C + C + c])
            }
            // d/dbias = sum dy * s;  d/dlogs = sum dy * y + T * sum_b dLogDet[b]
            bias.grad[c] += Float(sdy) * Foundation.expf(logs.value[c])
            logs.grad[c] += Float(sdyy) + Float(T) * dLD
        }
    }

    public func inverse(_ y: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, shape: Shape) throws {
        try checkChannels(shape)
        let T = shape.time
        for b in 0..<shape.batch {
            for c in 0..<channels {
                let o = (b * channels + c) * T
                let bc = bias.value[c], inv = Foundation.expf(-logs.value[c])
                for t in 0..<T { x[o + t] = y[o + t] * inv - bc }
            }
        }
    }
}
