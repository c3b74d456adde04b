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
/// When scanning powers of two, each B is judged only on its *odd* harmonics (2j+1)·fs/B, the
/// ones that no shorter candidate B/2, B/4, … has: their energy is carried by
/// d_p = m_p − m_{p+B/2}, p < B/2, and
///     S_B^odd = Σ_{p<B/2} d_p² / (s²·(1/c_p + 1/c_{p+B/2}))   ≈ χ²(B/2).
/// This names the block length itself (a restart every 4096 samples shows at B = 4096, not at
/// 8192 or 16384), and a signal-following (learned) noise on a tone whose period divides B/2 — e.g.
/// 1 kHz at 16 kHz, period 16 — adds nothing, because all its energy sits on even harmonics.
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

    /// S_B^odd for candidate index c (B even), given the series' population variance.
    func oddHarmonicStatistic(candidate c: Int, variance s2: Double) -> Double {
        let b = candidates[c]
        guard s2 > 0, count >= b, b % 2 == 0 else { return 0 }
        let half = b / 2
        let base = count / b, extra = count % b
        var s = 0.0
        for p in 0..<half {
            let cp = Double(base + (p < extra ? 1 : 0)), cq = Double(base + (p + half < extra ? 1 : 0))
            let d = phaseSums[c][p] / cp - phaseSums[c][p + half] / cq
            s += d * d / (1 / cp + 1 / cq)
        }
        return s / s2
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
