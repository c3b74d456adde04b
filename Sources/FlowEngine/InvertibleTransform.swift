/// A bijection on (batch, channels, time) buffers with a tractable log-Jacobian, the building
/// block of the flows:
///
///     y = f(x),   logDet[b] += log |det d y_b / d x_b|   (nats, per batch item b)
///
/// Contract: `backward` refers to the latest `forward` on the same shape and receives that
/// forward's input `x` and output `y` (the caller keeps them; the transform keeps only what it
/// cannot recompute cheaply). Given dL/dy and dL/dlogDet (per item) it accumulates parameter
/// gradients and writes dL/dx (overwriting `dx`). `inverse` maps y back to x (x = f^-1(y)).
/// Buffers passed to one call must not overlap.
public protocol InvertibleTransform: AnyObject {
    var parameters: [Parameter] { get }
    func forward(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape,
        logDet: UnsafeMutablePointer<Float>) throws
    func backward(
        x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        dLogDet: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, shape: Shape) throws
    func inverse(_ y: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, shape: Shape) throws
}

extension InvertibleTransform {
    /// Array convenience: returns (y, logDet per item). Allocates; meant for tests and tools.
    public func forward(_ x: [Float], shape: Shape) throws -> (y: [Float], logDet: [Float]) {
        try check(x.count, shape, "forward input")
        var y = [Float](repeating: 0, count: shape.count)
        var ld = [Float](repeating: 0, count: shape.batch)
        try x.withUnsafeBufferPointer { xp in
            try y.withUnsafeMutableBufferPointer { yp in
                try ld.withUnsafeMutableBufferPointer { lp in
                    try forward(xp.baseAddress!, yp.baseAddress!, shape: shape, logDet: lp.baseAddress!)
                }
            }
        }
        return (y, ld)
    }

    /// Array convenience for `backward`; returns dL/dx.
    public func backward(x: [Float], y: [Float], dy: [Float], dLogDet: [Float], shape: Shape) throws -> [Float] {
        try check(x.count, shape, "backward x")
        try check(y.count, shape, "backward y")
        try check(dy.count, shape, "backward dy")
        guard dLogDet.count == shape.batch else {
            throw FlowEngineError.sizeMismatch(what: "backward dLogDet", expected: shape.batch, actual: dLogDet.count)
        }
        var dx = [Float](repeating: 0, count: shape.count)
        try dx.withUnsafeMutableBufferPointer { d in
            try backward(
                x: x, y: y, dy: dy, dLogDet: dLogDet, dx: d.baseAddress!, shape: shape)
        }
        return dx
    }

    /// Array convenience for `inverse`.
    public func inverse(_ y: [Float], shape: Shape) throws -> [Float] {
        try check(y.count, shape, "inverse input")
        var x = [Float](repeating: 0, count: shape.count)
        try x.withUnsafeMutableBufferPointer { xp in try inverse(y, xp.baseAddress!, shape: shape) }
        return x
    }

    private func check(_ n: Int, _ shape: Shape, _ what: String) throws {
        try shape.validate(what)
        guard n == shape.count else { throw FlowEngineError.sizeMismatch(what: what, expected: shape.count, actual: n) }
    }
}
