import Foundation

/// Elementwise operations on Float32 buffers, each forward next to its hand-written backward.
/// Backward functions take the upstream gradient `dy` and whatever forward value they need, and
/// write (not add) `dx`. All buffers have the same element count `n`; `dx` may alias `dy`.
public enum Pointwise {
    /// y = max(x, 0). Inside `KinkMonitor.record`, x is recorded as a (1, 1, n) pre-activation.
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        KinkMonitor.current?.append(layer: "Pointwise.relu", x, batch: 1, channels: 1, time: n)
        for i in 0..<n { y[i] = max(x[i], 0) }
    }

    /// dx = dy * [y > 0] (y = relu output).
    public static func reluBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }

    /// y = tanh(x).
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = Foundation.tanhf(x[i]) }
    }

    /// dx = dy * (1 - y^2) (y = tanh output).
    public static func tanhBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { dx[i] = dy[i] * (1 - y[i] * y[i]) }
    }

    /// y = exp(x).
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = Foundation.expf(x[i]) }
    }

    /// dx = dy * y (y = exp output).
    public static func expBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { dx[i] = dy[i] * y[i] }
    }

    /// Logistic sigmoid s(x) = 1 / (1 + e^-x), evaluated without overflow for large |x|.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.expf(-x)) }
        let e = Foundation.expf(x)
        return e / (1 + e)
    }

    /// softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|).
    @inline(__always)
    public static func softplus(_ x: Float) -> Float {
        max(x, 0) + Foundation.log1pf(Foundation.expf(-abs(x)))
    }

    /// y = sigmoid(x).
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = sigmoid(x[i]) }
    }

    /// dx = dy * y (1 - y) (y = sigmoid output).
    public static func sigmoidBackward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { dx[i] = dy[i] * y[i] * (1 - y[i]) }
    }

    /// y = log s'(x) = -softplus(-x) - softplus(x) = -|x| - 2 log1p(e^-|x|)  (nats, always < 0).
    public static func logSigmoidDerivative(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n {
            let a = abs(x[i])
            y[i] = -a - 2 * Foundation.log1pf(Foundation.expf(-a))
        }
    }

    /// dx = dy * (1 - 2 s(x)), the derivative of log s'(x).
    public static func logSigmoidDerivativeBackward(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { dx[i] = dy[i] * (1 - 2 * sigmoid(x[i])) }
    }

    /// Per-channel bias on (batch, channels, time): y[b, c, t] = x[b, c, t] + bias[c].
    public static func addBias(
        _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape
    ) {
        let T = shape.time
        for b in 0..<shape.batch {
            for c in 0..<shape.channels {
                let o = (b * shape.channels + c) * T
                let v = bias[c]
                for t in 0..<T { y[o + t] = x[o + t] + v }
            }
        }
    }

    /// Bias backward: dbias[c] += sum_{b,t} dy[b, c, t]; dx = dy is the identity (not written).
    public static func addBiasBackward(dy: UnsafePointer<Float>, dBias: UnsafeMutablePointer<Float>, shape: Shape) {
        let T = shape.time
        for b in 0..<shape.batch {
            for c in 0..<shape.channels {
                let o = (b * shape.channels + c) * T
                var s: Float = 0
                for t in 0..<T { s += dy[o + t] }
                dBias[c] += s
            }
        }
    }
}
