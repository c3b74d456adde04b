import CBLAS
#if canImport(Glibc)
import Glibc
#endif

/// The only door to OpenBLAS: single-precision GEMM on row-major matrices plus thread control.
///
/// OpenBLAS is loaded on first use (`dlopen` of `libopenblas.so.0`), not at process start: a
/// process that never runs a flow does not pay for loading it or for the worker threads it starts
/// (which spin on `sched_yield` and took a core from `convert`). Entry points that run flows call
/// `ensureLoaded()` first, so a missing library is a typed error, not a crash in the middle.
public enum BLAS {
    struct Functions: @unchecked Sendable {
        let sgemm: audiodq_cblas_sgemm_fn
        let setThreads: audiodq_openblas_set_num_threads_fn
        let getThreads: audiodq_openblas_get_num_threads_fn
    }

    /// Library names tried in order (the runtime package's soname, then the -dev symlink).
    static let libraryNames = ["libopenblas.so.0", "libopenblas.so"]

    /// Loaded once, thread-safely (a global's initialiser runs once).
    static let loaded: Result<Functions, FlowEngineError> = load()

    static func load() -> Result<Functions, FlowEngineError> {
        var reason = "not found"
        for name in libraryNames {
            guard let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                if let e = dlerror() { reason = String(cString: e) }
                continue
            }
            guard let g = dlsym(h, "cblas_sgemm"), let s = dlsym(h, "openblas_set_num_threads"),
                  let t = dlsym(h, "openblas_get_num_threads") else {
                reason = "\(name) lacks cblas_sgemm or the openblas thread calls"
                continue
            }
            return .success(Functions(sgemm: unsafeBitCast(g, to: audiodq_cblas_sgemm_fn.self),
                                      setThreads: unsafeBitCast(s, to: audiodq_openblas_set_num_threads_fn.self),
                                      getThreads: unsafeBitCast(t, to: audiodq_openblas_get_num_threads_fn.self)))
        }
        return .failure(.libraryUnavailable(name: "OpenBLAS", reason: "\(reason) (install libopenblas0 or libopenblas-dev)"))
    }

    /// Loads OpenBLAS if needed; throws when it cannot be loaded.
    public static func ensureLoaded() throws(FlowEngineError) {
        if case .failure(let e) = loaded { throw e }
    }

    static var functions: Functions {
        switch loaded {
        case .success(let f): return f
        case .failure(let e): preconditionFailure("FlowEngine used without OpenBLAS: \(e)")
        }
    }

    /// Sets the number of OpenBLAS worker threads (process-wide). FlowEngine never calls this by
    /// itself; the application decides (the benchmark uses 2).
    public static func setThreads(_ n: Int) {
        functions.setThreads(Int32(max(1, n)))
    }

    /// Current number of OpenBLAS worker threads.
    public static var threads: Int { Int(functions.getThreads()) }

    /// C (m x n) = alpha * op(A) * op(B) + beta * C, all row-major; op(A) is (m x k), op(B) (k x n).
    /// `lda`, `ldb`, `ldc` are the row strides of the stored (untransposed) matrices.
    @inline(__always)
    static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        functions.sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
