/// Streaming sample autocorrelation of a series at lags 1 … L, and the Ljung–Box statistic.
///
/// Keeps the running sums S_k = Σ_{t≥k} v_t·v_{t−k}, Σv, Σv², the first L values and a ring of
/// the last L values, so memory is O(L). With mean m and N samples,
///     c_k = S_k − m·(A_k + B_k) + (N − k)·m²,  A_k = Σ_{t<N−k} v_t,  B_k = Σ_{t≥k} v_t,
///     r_k = c_k / (Σv² − N·m²)            (the usual biased ACF estimator),
///     Q   = N(N + 2)·Σ_{k=1..L} r_k² / (N − k)   ~ χ²(L) for white noise (Ljung–Box).
struct AutocorrelationAccumulator {
    let lags: Int
    private(set) var count = 0
    private(set) var sum = 0.0
    private(set) var sumSquares = 0.0
    private var lagSums: [Double]
    private var head: [Double] = []
    private var ring: [Double]
    private var ringPos = 0
    private var work: [Double] = []

    init(lags: Int) {
        self.lags = lags
        lagSums = [Double](repeating: 0, count: lags + 1)
        ring = [Double](repeating: 0, count: lags)
    }

    /// Appends a chunk of the series. The lag products are summed lag by lag over the chunk with
    /// the previous L values in front of it (zeros before the first sample, which add nothing).
    mutating func add(_ chunk: UnsafeBufferPointer<Double>) {
        let m = chunk.count
        guard m > 0 else { return }
        let l = lags
        if work.count < l + m { work = [Double](repeating: 0, count: l + m) }
        work.withUnsafeMutableBufferPointer { wp in
            let w = wp.baseAddress!
            // previous tail (oldest first) from the ring
            for j in 0..<l { w[j] = ring[(ringPos + j) % l] }
            for i in 0..<m { w[l + i] = chunk[i] }
            lagSums.withUnsafeMutableBufferPointer { sp in
                for k in 1...l {
                    var s = 0.0
                    let cur = w + l, lagged = w + l - k
                    for i in 0..<m { s += cur[i] * lagged[i] }
                    sp[k] += s
                }
            }
            for j in 0..<l { ring[(ringPos + j) % l] = w[m + j] }
        }
        for i in 0..<min(m, l - head.count) where head.count < l { head.append(chunk[i]) }
        var s = 0.0, s2 = 0.0
        for i in 0..<m { s += chunk[i]; s2 += chunk[i] * chunk[i] }
        sum += s
        sumSquares += s2
        count += m
    }

    var mean: Double { count > 0 ? sum / Double(count) : 0 }
    /// Population variance Σ(v − m)²/N.
    var variance: Double { count > 0 ? max(0, sumSquares / Double(count) - mean * mean) : 0 }

    /// r_1 … r_L (all 0 when the series is constant or shorter than L + 1).
    func autocorrelation() -> [Double] {
        let n = count
        let m = mean
        let denom = sumSquares - Double(n) * m * m
        guard n > lags, denom > 0 else { return [Double](repeating: 0, count: lags) }
        // last k values: ring entries before ringPos
        var tailSum = 0.0, headSum = 0.0
        var idx = ringPos
        var r = [Double](repeating: 0, count: lags)
        for k in 1...lags {
            idx = idx == 0 ? lags - 1 : idx - 1
            tailSum += ring[idx]
            headSum += head[k - 1]
            let a = sum - tailSum, b = sum - headSum
            let c = lagSums[k] - m * (a + b) + Double(n - k) * m * m
            r[k - 1] = c / denom
        }
        return r
    }

    /// Ljung–Box Q over lags 1 … L.
    func ljungBox() -> Double {
        let r = autocorrelation()
        let n = Double(count)
        var q = 0.0
        for k in 1...lags { q += r[k - 1] * r[k - 1] / (n - Double(k)) }
        return n * (n + 2) * q
    }
}
