import Foundation

/// The tanh-affine coupling element, the one piece of arithmetic that `AffineCoupling` and
/// `ConditionalCoupling` share: on a row of n values x, given the conditioner's raw scale r and
/// shift m for that row (all float32),
///
///     logS = tanh(r),   s = exp(logS),   y = x·s + m,   logDet += Σ_t logS[t]
///
/// so |logS| < 1 and every scale lies in (1/e, e). Its inverse is x = (y − m)·exp(−tanh(r)).
/// Given upstream gradients dy = ∂L/∂y and g = ∂L/∂logDet (one per batch item), backward is
///
///     ∂L/∂x = dy·s,   ∂L/∂r = (dy·x·s + g)·(1 − logS²),   ∂L/∂m = dy
///
/// (d tanh(r)/dr = 1 − tanh²(r), reusing the logS kept by forward). Rows are contiguous; the
/// couplings decide which rows of their buffers play x, r and m. Every float32 operation is the
/// couplings' historical one in the same order (the sum of logS runs over t = 0, 1, … into the
/// caller's running sum), so outputs, log-determinants and checkpoints are bit for bit those of
/// the per-coupling loops this replaced.
enum TanhAffine {
    /// y = x·exp(tanh(raw)) + shift over `count` values; keeps logS = tanh(raw) and
    /// scale = exp(logS) for `backward` and adds Σ logS to `logDetSum` in index order.
    @inline(__always)
    static func forward(
        x: UnsafePointer<Float>, raw: UnsafePointer<Float>, shift: UnsafePointer<Float>, count: Int,
        y: UnsafeMutablePointer<Float>, logS: UnsafeMutablePointer<Float>, scale: UnsafeMutablePointer<Float>,
        logDetSum: inout Float
    ) {
        var sum = logDetSum
        for t in 0..<count {
            let l = Foundation.tanhf(raw[t])
            let s = Foundation.expf(l)
            logS[t] = l
            scale[t] = s
            y[t] = x[t] * s + shift[t]
            sum += l
        }
        logDetSum = sum
    }

    /// Gradients of one row from the `logS` and `scale` its forward kept: dx = dy·s,
    /// dRaw = (dy·x·s + dLogDet)·(1 − logS²), dShift = dy (each written, not accumulated).
    @inline(__always)
    static func backward(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, logS: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        dLogDet g: Float, count: Int,
        dx: UnsafeMutablePointer<Float>, dRaw: UnsafeMutablePointer<Float>, dShift: UnsafeMutablePointer<Float>
    ) {
        for t in 0..<count {
            let gy = dy[t], s = scale[t], l = logS[t]
            dx[t] = gy * s
            dRaw[t] = (gy * x[t] * s + g) * (1 - l * l)
            dShift[t] = gy
        }
    }

    /// x = (y − shift)·exp(−tanh(raw)) over `count` values: the inverse of `forward` given the
    /// same raw scale and shift (exact up to float32 rounding).
    @inline(__always)
    static func inverse(
        y: UnsafePointer<Float>, raw: UnsafePointer<Float>, shift: UnsafePointer<Float>, count: Int,
        x: UnsafeMutablePointer<Float>
    ) {
        for t in 0..<count { x[t] = (y[t] - shift[t]) * Foundation.expf(-Foundation.tanhf(raw[t])) }
    }
}
