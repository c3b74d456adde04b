import CFFTW
import Foundation

/// FFTW's planner is not thread-safe (only `fftwf_execute` is): every plan creation and
/// destruction in this module happens under this lock.
let fftwPlannerLock = NSLock()

/// A single-precision real-to-complex FFT of fixed length n, planned once (FFTW_ESTIMATE, which
/// leaves the arrays alone while planning) on its own `fftwf_alloc_*` buffers and always executed
/// on those same buffers, so the plan's alignment assumptions always hold.
///
/// Output convention (FFTW's, unnormalised): X_k = Σ_{t<n} x_t e^{−2πi kt/n}, k = 0 … n/2.
final class RealFFT {
    let length: Int
    /// Number of output bins, n/2 + 1.
    let binCount: Int
    private let input: UnsafeMutablePointer<Float>
    private let output: UnsafeMutablePointer<fftwf_complex>
    private let plan: OpaquePointer

    init(length n: Int) throws {
        precondition(n >= 2)
        length = n
        binCount = n / 2 + 1
        guard let inp = fftwf_alloc_real(n), let out = fftwf_alloc_complex(n / 2 + 1) else {
            throw SpectralDiagnosticsError.fftPlanFailed(length: n)
        }
        fftwPlannerLock.lock()
        let p = fftwf_plan_dft_r2c_1d(Int32(n), inp, out, UInt32(FFTW_ESTIMATE))
        fftwPlannerLock.unlock()
        guard let p else {
            fftwf_free(inp); fftwf_free(out)
            throw SpectralDiagnosticsError.fftPlanFailed(length: n)
        }
        input = inp
        output = out
        plan = p
    }

    deinit {
        fftwPlannerLock.lock()
        fftwf_destroy_plan(plan)
        fftwPlannerLock.unlock()
        fftwf_free(input)
        fftwf_free(output)
    }

    /// Transforms `x` (count == length, converted to Float) and writes the n/2+1 bins into
    /// `re`/`im` (widened to Double).
    func transform(_ x: UnsafeBufferPointer<Double>, re: UnsafeMutableBufferPointer<Double>,
                   im: UnsafeMutableBufferPointer<Double>) {
        precondition(x.count == length && re.count >= binCount && im.count >= binCount)
        let src = x.baseAddress!, dr = re.baseAddress!, di = im.baseAddress!
        let inp = input
        for i in 0..<length { inp[i] = Float(src[i]) }
        fftwf_execute(plan)
        // fftwf_complex is (Float, Float): read it as interleaved floats
        UnsafeMutableRawPointer(output).withMemoryRebound(to: Float.self, capacity: 2 * binCount) { out in
            for k in 0..<binCount {
                dr[k] = Double(out[2 * k])
                di[k] = Double(out[2 * k + 1])
            }
        }
    }

    /// Convenience for tests: transform an array, return (re, im).
    func transform(_ x: [Double]) -> (re: [Double], im: [Double]) {
        var re = [Double](repeating: 0, count: binCount)
        var im = [Double](repeating: 0, count: binCount)
        x.withUnsafeBufferPointer { xp in
            re.withUnsafeMutableBufferPointer { rp in
                im.withUnsafeMutableBufferPointer { ip in transform(xp, re: rp, im: ip) }
            }
        }
        return (re, im)
    }
}
