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

    public func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape,
        logDet: UnsafeMutablePointer<Float>
    ) throws {
        try checkChannels(shape)
        if !isInitialized { initialize(from: x, shape: shape) }
        let T = shape.time
        var sumLogs: Float = 0
        for c in 0..<channels { sumLogs += logs.value[c] }
        bias.value.withUnsafeBufferPointer { bp in
            logs.value.withUnsafeBufferPointer { lp in
                for b in 0..<shape.batch {
                    for c in 0..<channels {
                        let o = (b * channels + c) * T
                        let bc = bp[c], s = Foundation.expf(lp[c])
                        for t in 0..<T { y[o + t] = (x[o + t] + bc) * s }
                    }
                    logDet[b] += Float(T) * sumLogs
                }
            }
        }
    }

    public func backward(
        x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dLogDet: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: Shape
    ) throws {
        try checkChannels(shape)
        let T = shape.time
        var dLD: Float = 0
        for b in 0..<shape.batch { dLD += dLogDet[b] }
        for c in 0..<channels {
            let s = Foundation.expf(logs.value[c])
            var sdy = 0.0, sdyy = 0.0
            for b in 0..<shape.batch {
                let o = (b * channels + c) * T
                var a: Float = 0, bb: Float = 0
                for t in 0..<T {
                    let g = dy[o + t]
                    dx[o + t] = g * s
                    a += g
                    bb += g * y[o + t]
                }
                sdy += Double(a)
                sdyy += Double(bb)
            }
            // d/dbias = sum dy * s;  d/dlogs = sum dy * y + T * sum_b dLogDet[b]
            bias.grad[c] += Float(sdy) * s
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
