import CBLAS

/// The only door to OpenBLAS: single-precision GEMM on row-major matrices plus thread control.
public enum BLAS {
    /// Sets the number of OpenBLAS worker threads (process-wide). FlowEngine never calls this by
    /// itself; the application decides (the benchmark uses 2).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// Current number of OpenBLAS worker threads.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C (m x n) = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is (m x k), op(B) (k x n).
    /// `lda`, `ldb`, `ldc` are the row strides of the stored (untransposed) matrices.
    @inline(__always)
    static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
