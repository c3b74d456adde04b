import Foundation

/// Factorised base densities of the flows, log-density summed per batch item (nats).
///
/// - standardNormal: log N(z) = -z^2/2 - log(2 pi)/2 per element, d/dz = -z.
/// - standardLogistic: log p(z) = -softplus(-z) - softplus(z) = log s'(z), d/dz = 1 - 2 s(z);
///   sigmoid of a standard-logistic draw is exactly U(0, 1).
public enum BaseDistribution: String, Codable, Sendable, CaseIterable {
    case standardNormal
    case standardLogistic

    static let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))

    /// logp[b] += sum over the item's `itemCount` elements of log p(z); z is (batch, itemCount).
    public func addLogProb(_ z: UnsafePointer<Float>, batch: Int, itemCount: Int, into logp: UnsafeMutablePointer<Float>) {
        for b in 0..<batch {
            let p = z + b * itemCount
            switch self {
            case .standardNormal:
                // sum of squares with 8 lanes; Double for the per-item total
                var s = 0.0, i = 0
                while i < itemCount {
                    let n = min(4096, itemCount - i)
                    s += Double(Kernels.dot(p + i, p + i, n))
                    i += n
                }
                logp[b] += Float(-0.5 * s - Double(itemCount) * Double(Self.halfLog2Pi))
            case .standardLogistic:
                var s = 0.0
                for i in 0..<itemCount {
                    let a = abs(p[i])
                    s += Double(-a - 2 * Foundation.log1pf(Foundation.expf(-a)))
                }
                logp[b] += Float(s)
            }
        }
    }

    /// dz[b, i] = dLogp[b] * d log p(z[b, i]) / dz (written, not added).
    public func logProbBackward(
        _ z: UnsafePointer<Float>, dLogp: UnsafePointer<Float>, batch: Int, itemCount: Int, dz: UnsafeMutablePointer<Float>
    ) {
        for b in 0..<batch {
            let p = z + b * itemCount, d = dz + b * itemCount, g = dLogp[b]
            switch self {
            case .standardNormal:
                for i in 0..<itemCount { d[i] = -g * p[i] }
            case .standardLogistic:
                for i in 0..<itemCount { d[i] = g * (1 - 2 * Pointwise.sigmoid(p[i])) }
            }
        }
    }
}
