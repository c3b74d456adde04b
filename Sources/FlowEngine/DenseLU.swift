/// LU factorisation with partial pivoting of a small dense n x n matrix in Double:
/// P A = L U. Gives log|det A| = sum_i log|U_ii| (nats), the sign of det A, A^-1 and solves.
/// Used for the invertible 1x1 convolution (n = channels) and by tests for brute-force Jacobians.
public struct DenseLU: Sendable {
    public let n: Int
    /// Combined factors, row-major: strict lower part = L (unit diagonal), upper part = U.
    private var lu: [Double]
    private var pivot: [Int]
    /// +1 or -1: sign of det A.
    public private(set) var sign: Double
    /// log |det A| in nats.
    public private(set) var logAbsDet: Double

    /// Factorises the row-major n x n matrix `a`. Throws `.singularMatrix` if a pivot is exactly 0.
    public init(_ a: [Double], n: Int, what: String = "matrix") throws {
        guard a.count == n * n else { throw FlowEngineError.sizeMismatch(what: what, expected: n * n, actual: a.count) }
        self.n = n
        lu = a
        pivot = Array(0..<n)
        var sgn = 1.0, logDet = 0.0
        for k in 0..<n {
            var p = k
            var best = abs(lu[k * n + k])
            for i in (k + 1)..<max(n, k + 1) where abs(lu[i * n + k]) > best {
                best = abs(lu[i * n + k])
                p = i
            }
            guard best > 0, best.isFinite else { throw FlowEngineError.singularMatrix(what) }
            if p != k {
                for j in 0..<n { lu.swapAt(k * n + j, p * n + j) }
                pivot.swapAt(k, p)
                sgn = -sgn
            }
            let d = lu[k * n + k]
            if d < 0 { sgn = -sgn }
            logDet += Foundation.log(abs(d))
            for i in (k + 1)..<max(n, k + 1) {
                let f = lu[i * n + k] / d
                lu[i * n + k] = f
                if f != 0 { for j in (k + 1)..<n { lu[i * n + j] -= f * lu[k * n + j] } }
            }
        }
        sign = sgn
        logAbsDet = logDet
    }

    /// Solves A x = b.
    public func solve(_ b: [Double]) -> [Double] {
        var x = [Double](repeating: 0, count: n)
        for i in 0..<n { x[i] = b[pivot[i]] }
        for i in 0..<n { for j in 0..<i { x[i] -= lu[i * n + j] * x[j] } }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in (i + 1)..<n { x[i] -= lu[i * n + j] * x[j] }
            x[i] /= lu[i * n + i]
        }
        return x
    }

    /// A^-1, row-major.
    public func inverse() -> [Double] {
        var inv = [Double](repeating: 0, count: n * n)
        var e = [Double](repeating: 0, count: n)
        for j in 0..<n {
            e[j] = 1
            let col = solve(e)
            e[j] = 0
            for i in 0..<n { inv[i * n + j] = col[i] }
        }
        return inv
    }
}

import Foundation
