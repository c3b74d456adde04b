import Foundation

/// Streaming Welch estimator of two simultaneous series a and b: their auto-spectra, their cross
/// spectrum, hence the spectrum of a + b and the magnitude-squared coherence.
///
/// Conventions are those of `scipy.signal.welch`/`csd`/`coherence` with `window='hann'`
/// (periodic), `noverlap = nperseg/2`, `detrend='constant'`, `scaling='density'`,
/// `return_onesided=True`, `average='mean'`:
/// - segment s covers samples [s·hop, s·hop + nperseg), hop = nperseg/2; only whole segments count;
/// - each segment has its own mean removed, then is multiplied by w_t = ½ − ½cos(2πt/nperseg);
/// - P_aa(f_k) = c_k/(fs·Σw²) · mean_s |A_s(k)|², in (units of a)²/Hz, with c_k = 2 except
///   c_0 = c_{n/2} = 1 (DC and Nyquist not doubled); likewise P_ab = c_k/(fs·Σw²)·mean_s conj(A)·B;
/// - f_k = k·fs/nperseg Hz, k = 0 … nperseg/2;
/// - coherence C_k = |P_ab|²/(P_aa·P_bb) ∈ [0, 1] (0 where either auto-spectrum is 0);
/// - P_{a+b} = P_aa + P_bb + 2·Re P_ab (exact for the same segments and window).
///
/// Memory is one segment per series plus the running sums: it does not grow with the input.
/// FFTs run in single precision (FFTW r2c); the sums are kept in Double.
final class WelchEstimator {
    let nperseg: Int
    let hop: Int
    let sampleRate: Double
    let window: [Double]
    private let fft: RealFFT
    private(set) var segments = 0
    /// One allocation holds every working array (raw pointers keep debug builds fast):
    /// bufA, bufB, scratch, win (nperseg each); sumAA, sumBB, sumABre, sumABim, reA, imA, reB, imB
    /// (nperseg/2 + 1 each).
    private let storage: UnsafeMutablePointer<Double>
    private let bufA, bufB, scratch, win: UnsafeMutablePointer<Double>
    private let sumAA, sumBB, sumABre, sumABim, reA, imA, reB, imB: UnsafeMutablePointer<Double>
    private var filled = 0

    init(nperseg: Int, sampleRate: Double) throws {
        precondition(nperseg >= 4 && nperseg % 2 == 0)
        self.nperseg = nperseg
        hop = nperseg / 2
        self.sampleRate = sampleRate
        window = WelchEstimator.periodicHann(nperseg)
        fft = try RealFFT(length: nperseg)
        let m = nperseg / 2 + 1
        storage = .allocate(capacity: 4 * nperseg + 8 * m)
        storage.initialize(repeating: 0, count: 4 * nperseg + 8 * m)
        bufA = storage
        bufB = storage + nperseg
        scratch = storage + 2 * nperseg
        win = storage + 3 * nperseg
        let s = storage + 4 * nperseg
        sumAA = s; sumBB = s + m; sumABre = s + 2 * m; sumABim = s + 3 * m
        reA = s + 4 * m; imA = s + 5 * m; reB = s + 6 * m; imB = s + 7 * m
        for t in 0..<nperseg { win[t] = window[t] }
    }

    deinit {
        storage.deallocate()
    }

    /// Periodic Hann window w_t = ½ − ½·cos(2πt/n), t = 0 … n−1 (scipy `get_window('hann', n)`).
    static func periodicHann(_ n: Int) -> [Double] {
        (0..<n).map { 0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n)) }
    }

    /// Number of frequency bins, nperseg/2 + 1.
    var binCount: Int { nperseg / 2 + 1 }

    /// Appends the next samples of both series (same count).
    func append(a: UnsafeBufferPointer<Double>, b: UnsafeBufferPointer<Double>) {
        precondition(a.count == b.count)
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return }
        var i = 0
        while i < a.count {
            let take = min(nperseg - filled, a.count - i)
            (bufA + filled).update(from: pa + i, count: take)
            (bufB + filled).update(from: pb + i, count: take)
            filled += take
            i += take
            if filled == nperseg {
                processSegment()
                // keep the second half as the first half of the next segment
                bufA.update(from: bufA + hop, count: hop)
                bufB.update(from: bufB + hop, count: hop)
                filled = hop
            }
        }
    }

    func append(a: [Double], b: [Double]) {
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in append(a: ap, b: bp) } }
    }

    private func processSegment() {
        transformDetrended(bufA, re: reA, im: imA)
        transformDetrended(bufB, re: reB, im: imB)
        for k in 0..<binCount {
            let ar = reA[k], ai = imA[k], br = reB[k], bi = imB[k]
            sumAA[k] += ar * ar + ai * ai
            sumBB[k] += br * br + bi * bi
            // conj(A)·B
            sumABre[k] += ar * br + ai * bi
            sumABim[k] += ar * bi - ai * br
        }
        segments += 1
    }

    private func transformDetrended(_ x: UnsafeMutablePointer<Double>, re: UnsafeMutablePointer<Double>,
                                    im: UnsafeMutablePointer<Double>) {
        var mean = 0.0
        for t in 0..<nperseg { mean += x[t] }
        mean /= Double(nperseg)
        for t in 0..<nperseg { scratch[t] = (x[t] - mean) * win[t] }
        fft.transform(UnsafeBufferPointer(start: scratch, count: nperseg),
                      re: UnsafeMutableBufferPointer(start: re, count: binCount),
                      im: UnsafeMutableBufferPointer(start: im, count: binCount))
    }

    /// The averaged spectra so far. Precondition: at least one segment.
    func result() -> WelchResult {
        precondition(segments > 0)
        var w2 = 0.0
        for w in window { w2 += w * w }
        let m = binCount
        let base = 1.0 / (sampleRate * w2 * Double(segments))
        var f = [Double](repeating: 0, count: m)
        var paa = f, pbb = f, psum = f, coh = f, pabRe = f, pabIm = f
        for k in 0..<m {
            let c = (k == 0 || k == m - 1) ? base : 2 * base
            f[k] = Double(k) * sampleRate / Double(nperseg)
            paa[k] = c * sumAA[k]
            pbb[k] = c * sumBB[k]
            pabRe[k] = c * sumABre[k]
            pabIm[k] = c * sumABim[k]
            psum[k] = max(0, paa[k] + pbb[k] + 2 * pabRe[k])
            let denom = paa[k] * pbb[k]
            coh[k] = denom > 0 ? min(1, (pabRe[k] * pabRe[k] + pabIm[k] * pabIm[k]) / denom) : 0
        }
        return WelchResult(frequencyHz: f, pAA: paa, pBB: pbb, pSum: psum, crossRe: pabRe, crossIm: pabIm,
                           coherence: coh, segments: segments)
    }
}
