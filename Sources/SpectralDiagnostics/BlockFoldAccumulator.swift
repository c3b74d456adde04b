/// Periodic ("block-edge") structure of a series for candidate block lengths B, by synchronous
/// averaging: the sum of v_t over every t with t mod B = p, for each phase p.
///
/// The folded mean m_p − m is, by Parseval, the part of the series that repeats every B samples,
/// i.e. exactly its energy at the frequencies j·fs/B, j = 1 … B−1 (the block-edge harmonics). For
/// iid noise with variance s², the statistic
///     S_B = Σ_p c_p (m_p − m)² / s²     (c_p samples in phase p)
/// is approximately χ²(B − 1) (exact for Gaussian noise; uniform noise is lighter-tailed, so the
/// limit is conservative). A generator that restarts every B samples makes every block identical
/// and S_B ≈ N.
///
/// Memory: one Double per phase per candidate (Σ B ≈ 131 k for the default scan 2⁸ … 2¹⁶).
struct BlockFoldAccumulator {
    let candidates: [Int]
    private var phaseSums: [[Double]]
    private(set) var count = 0

    init(candidates: [Int]) {
        self.candidates = candidates
        phaseSums = candidates.map { [Double](repeating: 0, count: $0) }
    }

    /// The default scan: B = 256, 512, …, 65536.
    static let defaultCandidates = (8...16).map { 1 << $0 }

    /// Appends a chunk of the series.
    mutating func add(_ chunk: UnsafeBufferPointer<Double>) {
        let m = chunk.count
        for c in candidates.indices {
            let b = candidates[c]
            phaseSums[c].withUnsafeMutableBufferPointer { pp in
                let sums = pp.baseAddress!
                if b & (b - 1) == 0 {
                    let mask = b - 1
                    for i in 0..<m { sums[(count + i) & mask] += chunk[i] }
                } else {
                    var p = count % b
                    for i in 0..<m {
                        sums[p] += chunk[i]
                        p += 1
                        if p == b { p = 0 }
                    }
                }
            }
        }
        count += m
    }

    /// S_B for candidate index c, given the series' mean and population variance.
    func statistic(candidate c: Int, mean m: Double, variance s2: Double) -> Double {
        let b = candidates[c]
        guard s2 > 0, count >= b else { return 0 }
        let base = count / b, extra = count % b
        var s = 0.0
        for p in 0..<b {
            let cp = Double(base + (p < extra ? 1 : 0))
            let d = phaseSums[c][p] - cp * m
            s += d * d / cp
        }
        return s / s2
    }
}
