import Foundation

/// LU factorisation with partial pivoting of a small dense n x n matrix in Double:
/// P A = L U. Gives log|det A| = sum_i log|U_ii| (nats), the sign of det A, A^-1 and solves.
/// Used for the invertible 1x1 convolution (n = channels, refactored in place every step
/// without allocating) and by tests for brute-force Jacobians.
public struct DenseLU: Sendable {
    public let n: Int
    /// Combined factors, row-major: strict lower part = L (unit diagonal), upper part = U.
    private var lu: [Double]
    private var pivot: [Int]
    /// +1 or -1: sign of det A.
    public private(set) var sign: Double = 1
    /// log |det A| in nats.
    public private(set) var logAbsDet: Double = 0

    /// Factorises the row-major n x n matrix `a`. Throws `.singularMatrix` if a pivot is exactly 0.
    public init(_ a: [Double], n: Int, what: String = "matrix") throws {
        guard a.count == n * n else { throw FlowEngineError.sizeMismatch(what: what, expected: n * n, actual: a.count) }
        self.n = n
        lu = a
        pivot = Array(0..<n)
        try factor(what)
    }

    /// Identity-sized storage for repeated in-place `refactor` calls.
    init(capacity n: Int) {
        self.n = n
        lu = [Double](repeating: 0, count: n * n)
        pivot = Array(0..<n)
    }

    /// Factorises the row-major Float matrix `a` (n x n) reusing this value's storage.
    mutating func refactor(_ a: UnsafePointer<Float>, what: String) throws {
        for i in 0..<(n * n) { lu[i] = Double(a[i]) }
        for i in 0..<n { pivot[i] = i }
        try factor(what)
    }

    private mutating func factor(_ what: String) throws {
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
        substitute(&x, stride: 1, offset: 0)
        return x
    }

    /// In-place forward/back substitution on the vector stored at x[offset + i * stride].
    private func substitute(_ x: inout [Double], stride s: Int, offset o: Int) {
        for i in 0..<n { for j in 0..<i { x[o + i * s] -= lu[i * n + j] * x[o + j * s] } }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in (i + 1)..<max(n, i + 1) { x[o + i * s] -= lu[i * n + j] * x[o + j * s] }
            x[o + i * s] /= lu[i * n + i]
        }
    }

    /// A^-1, row-major.
    public func inverse() -> [Double] {
        var inv = [Double](repeating: 0, count: n * n)
        writeInverse(into: &inv)
        return inv
    }

    /// Writes A^-1 (row-major) into `inv` (n * n elements), without allocating.
    func writeInverse(into inv: inout [Double]) {
        // Column j of A^-1 solves A x = e_j: start from P e_j, i.e. x[i] = (pivot[i] == j).
        for j in 0..<n {
            for i in 0..<n { inv[i * n + j] = pivot[i] == j ? 1 : 0 }
            substitute(&inv, stride: n, offset: j)
        }
    }
}
