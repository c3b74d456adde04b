import Foundation

/// Turns the accumulated sums of a `ChannelAnalyzer` into a `ChannelReport`: spectra, statistics,
/// limits and checks. All limits come from the null distributions documented on `ChannelReport`
/// at the per-check level α/m (Bonferroni over the m statistical checks that apply to the noise
/// kind, whether or not the channel is long enough for all of them to run); none is tuned. A check
/// the length does not allow is reported as skipped with its reason and left out of the verdict.
struct ChannelReportBuilder {
    let config: DiagnosticsConfig
    let sampleRate: Double
    let samples: Int
    /// nil when fewer than nperseg samples arrived (no Welch segment).
    let welch: WelchResult?
    let hop: Int
    let window: [Double]
    let withinBin: WithinBinAccumulator
    let acf: AutocorrelationAccumulator
    let fold: BlockFoldAccumulator
    let containment: ChannelReport.Containment

    /// Variance σ² of uniform within-bin noise, bin².
    static let uniformVariance = 1.0 / 12

    /// Effective number of independent segments, K/(1 + 2ρ²(K−1)/K) with the window's overlap
    /// correlation ρ = Σ w_t w_{t+hop} / Σ w_t².
    static func effectiveSegments(segments k: Int, window: [Double], hop: Int) -> Double {
        var w2 = 0.0, lagged = 0.0
        for t in window.indices {
            w2 += window[t] * window[t]
            if t + hop < window.count { lagged += window[t] * window[t + hop] }
        }
        let rho = lagged / w2
        let kk = Double(k)
        return kk / (1 + 2 * rho * rho * (kk - 1) / kk)
    }

    /// Edge-mass runs when the expected edge count N·p₀ and its complement N·(1 − p₀) are both at
    /// least this (the usual condition for the normal approximation of a binomial; N ≥ 160 for
    /// p₀ = 1/32). Below it the z-test's false-alarm rate reaches 2–40 times its share of α.
    static let edgeMinimumExpected = 5.0
    /// Whiteness runs when N ≥ this many samples per lag (500 for L = 20): on shorter series the
    /// Ljung–Box χ² limit at the per-check α is exceeded 3–13 times too often by white noise
    /// (simulation), against 2.2 times at N = 25·L and 1.5 times at N = 50·L.
    static let ljungBoxSamplesPerLag = 25

    func build() -> ChannelReport {
        let uniform = config.noiseKind == .uniform
        let statisticalChecks = uniform ? 7 : 3
        let a = config.alpha / Double(statisticalChecks)
        var checks: [CheckResult] = []
        let n = samples

        // 1. containment (any length)
        let bad = containment.binLeakage + containment.nonFinite + containment.outOfRange
        checks.append(CheckResult(
            name: "containment", passed: bad == 0, value: Double(bad), limit: 0, applies: true,
            detail: "\(containment.binLeakage) decode to another bin, \(containment.nonFinite) non-finite, \(containment.outOfRange) outside the range (of \(samples))"))

        // 2. within-bin distribution
        let wb = withinBin
        let nIn = wb.count
        let (ksGrid, ksPlain) = wb.ksDistances()
        let ksCrit = nIn > 0 ? Distributions.ksCritical(n: nIn, alpha: a) : 0
        let meanW = nIn > 0 ? wb.sum / Double(nIn) : 0
        let varW = nIn > 0 ? max(0, wb.sumSquares / Double(nIn) - meanW * meanW) : 0
        if n == 0 {
            checks.append(.skipped("uniformity", applies: uniform, reason: "no samples"))
        } else {
            checks.append(CheckResult(
                name: "uniformity", passed: nIn > 0 && ksGrid <= ksCrit, value: nIn > 0 ? ksGrid : 1, limit: ksCrit,
                applies: uniform,
                detail: String(format: "grid-aware KS distance over %d samples (plain KS ignoring the storage grid: %.5f); mean %.4f (1/2), variance %.5f (1/12 = 0.08333)", nIn, ksPlain, meanW, varW)))
        }

        let p0 = wb.expectedEdgeShare
        let edgeShare = nIn > 0 ? Double(wb.edgeCount) / Double(nIn) : 0
        let edgeSD = (p0 * (1 - p0) / Double(max(1, nIn))).squareRoot()
        let edgeZ = edgeSD > 0 ? (edgeShare - p0) / edgeSD : (edgeShare == p0 ? 0 : .infinity)
        let edgeCrit = Distributions.normalQuantile(1 - (uniform ? a / 2 : a))
        let edgeValue = uniform ? abs(edgeZ) : edgeZ
        // the rarer side of the binomial (2/64 on fine grids, also when no sample shows the grid)
        let rarer = p0 > 0 && p0 < 1 ? min(p0, 1 - p0) : 2.0 / 64
        let edgeNeeded = Int((Self.edgeMinimumExpected / rarer).rounded(.up))
        if Double(n) * rarer < Self.edgeMinimumExpected {
            checks.append(.skipped("edge-mass", applies: true, reason: String(
                format: "needs at least %d samples (expected edge count N*p0 >= %g with p0 = %.5f), has %d",
                edgeNeeded, Self.edgeMinimumExpected, p0, n)))
        } else {
            checks.append(CheckResult(
                name: "edge-mass", passed: nIn > 0 && edgeValue <= edgeCrit, value: Self.finite(edgeValue), limit: edgeCrit,
                applies: true,
                detail: String(format: "share of w in [0,1/64) or [63/64,1): %.5f, expected %.5f for uniform noise; value is the binomial z-score (%@)",
                               edgeShare, p0, uniform ? "two-sided" : "one-sided: no more edge mass than uniform noise")))
        }

        // 3. noise spectrum (at least one Welch segment)
        let floor = 2 * Self.uniformVariance / sampleRate
        var spectra = Spectra.empty
        if let welch {
            spectra = spectralChecks(welch, alpha: a, floor: floor, uniform: uniform, into: &checks)
        } else {
            let why = "needs at least \(config.nperseg) samples (one Welch segment, --nperseg \(config.nperseg)), has \(n)"
            checks.append(.skipped("flatness", applies: uniform, reason: why))
            checks.append(.skipped("tonal-spur", applies: true, reason: why))
            checks.append(.skipped("coherence", applies: uniform, reason: why))
        }

        // block-edge spurs
        let mean = acf.mean, variance = acf.variance
        let configured = config.blockLength != nil
        let minPeriods = configured ? 2 : 4
        let usable = fold.candidates.indices.filter { samples >= minPeriods * fold.candidates[$0] }
        var candidates: [ChannelReport.BlockCandidate] = []
        for c in usable {
            let b = fold.candidates[c]
            // configured B: all harmonics of fs/B; scan: the odd harmonics new at this B
            let df = configured ? Double(b - 1) : Double(b / 2)
            let s = configured ? fold.statistic(candidate: c, mean: mean, variance: variance)
                : fold.oddHarmonicStatistic(candidate: c, variance: variance)
            let q = Distributions.chiSquareUpperQuantile(df: df, upperTail: a / Double(usable.count))
            let wh = 2 / (9 * df)
            let z = (pow(max(s, 0) / df, 1.0 / 3) - (1 - wh)) / wh.squareRoot()
            candidates.append(.init(blockLength: b, spacingHz: sampleRate / Double(b), relativeEnergy: s / df,
                                    limit: q / df, z: z, passed: s <= q))
        }
        let failing = candidates.filter { !$0.passed }
        let detected = config.blockLength ?? failing.max { $0.z < $1.z }?.blockLength
        if let shown = candidates.max(by: { $0.relativeEnergy / $0.limit < $1.relativeEnergy / $1.limit }) {
            checks.append(CheckResult(
                name: "block-spur", passed: failing.isEmpty, value: shown.relativeEnergy, limit: shown.limit,
                applies: true,
                detail: String(format: "energy at multiples of fs/B relative to white noise, worst B = %d (%.2f Hz spacing); %d of %d block lengths fail",
                               shown.blockLength, shown.spacingHz, failing.count, candidates.count)))
        } else {
            let shortest = fold.candidates.min() ?? 0
            checks.append(.skipped("block-spur", applies: true, reason: configured
                ? "needs at least \(minPeriods * shortest) samples (2 blocks of --block \(shortest)), has \(n)"
                : "needs at least \(minPeriods * shortest) samples (4 blocks of the shortest scanned B = \(shortest)), has \(n)"))
        }

        // 4. whiteness
        let whitenessRuns = n >= Self.ljungBoxSamplesPerLag * config.lags
        let r = acf.autocorrelation()
        let q = whitenessRuns ? acf.ljungBox() : 0
        let qLimit = Distributions.chiSquareUpperQuantile(df: Double(config.lags), upperTail: a)
        let acfBand = n > 0 ? Distributions.normalQuantile(1 - a / (2 * Double(config.lags))) / Double(n).squareRoot() : 0
        if whitenessRuns {
            checks.append(CheckResult(
                name: "whiteness", passed: q <= qLimit, value: q, limit: qLimit, applies: uniform,
                detail: String(format: "Ljung-Box Q over %d lags; largest |r_k| = %.5f", config.lags, r.map { abs($0) }.max() ?? 0)))
        } else {
            checks.append(.skipped("whiteness", applies: uniform, reason:
                "needs at least \(Self.ljungBoxSamplesPerLag * config.lags) samples (\(Self.ljungBoxSamplesPerLag) per Ljung-Box lag, \(config.lags) lags), has \(n)"))
        }

        let order = CheckResult.allNames
        checks.sort { order.firstIndex(of: $0.name)! < order.firstIndex(of: $1.name)! }
        var notes: [String] = []
        if !uniform {
            notes.append("noise kind 'learned': uniformity, whiteness, coherence and flatness are computed but do not apply (variational noise need not be uniform, white or independent of the signal); edge-mass is one-sided (no more mass at the bin edges than uniform noise); tonal-spur compares each bin with the median of the whole noise spectrum, so strongly coloured noise can trip it")
        }
        if bad > 0 {
            notes.append("\(bad) samples do not decode to their code; they are excluded from the within-bin statistics")
        }
        let passed = !checks.contains { $0.failed }

        return ChannelReport(
            samples: samples, noiseKind: config.noiseKind, familyAlpha: config.alpha, perCheckAlpha: a,
            segments: welch?.segments ?? 0, effectiveSegments: spectra.keff, containment: containment,
            withinBin: .init(count: nIn, mean: meanW, variance: varW, expectedMean: 0.5, expectedVariance: Self.uniformVariance,
                             ksDistance: ksGrid, ksPlainDistance: ksPlain, ksCritical: ksCrit,
                             edgeShare: edgeShare, expectedEdgeShare: p0,
                             gridSteps: wb.gridSteps.map { .init(step: $0.step, count: $0.count) },
                             histogram: wb.histogram),
            noisePSD: spectra.noise ?? .init(frequencyHz: [], density: [], decibelsRelativeToFloor: [], floorDensity: floor,
                                              meanRelativeToFloor: 0, flatness: 0, expectedFlatness: 0, flatnessLimit: 0,
                                              worstSpurRatio: 0, worstSpurHz: 0, spurLimit: 0, spurFrequenciesHz: []),
            signalPSD: .init(frequencyHz: welch?.frequencyHz ?? [], density: welch?.pBB ?? []),
            dequantizedPSD: .init(frequencyHz: welch?.frequencyHz ?? [], density: welch?.pSum ?? []),
            coherence: spectra.coherence ?? .init(frequencyHz: [], msc: [], mean: 0, max: 0, maxHz: 0,
                                                  independenceLevel: 0, meanLimit: 0, maxLimit: 0),
            autocorrelation: .init(lags: Array(1...config.lags), r: r, limit: acfBand, ljungBoxQ: q, ljungBoxLimit: qLimit),
            blockSpur: .init(candidates: candidates, blockLength: detected, configured: configured),
            checks: checks, passed: passed, notes: notes)
    }

    /// What the Welch-based checks produce besides their `CheckResult`s.
    struct Spectra {
        var keff: Double
        var noise: ChannelReport.NoiseSpectrum?
        var coherence: ChannelReport.Coherence?
        static let empty = Spectra(keff: 0, noise: nil, coherence: nil)
    }

    /// flatness, tonal-spur and coherence from the Welch spectra (at least one segment); coherence
    /// needs two (the MSC of a single segment is 1 at every frequency).
    private func spectralChecks(_ welch: WelchResult, alpha a: Double, floor: Double, uniform: Bool,
                                into checks: inout [CheckResult]) -> Spectra {
        let keff = Self.effectiveSegments(segments: welch.segments, window: window, hop: hop)
        let m = welch.frequencyHz.count
        let tested = Array(2..<(m - 1))
        let nb = Double(tested.count)
        let psd = welch.pAA
        let db = psd.map { max(-300, 10 * log10(max($0, 1e-300) / floor)) }
        var sumP = 0.0, sumLog = 0.0, anyZero = false
        for k in tested {
            sumP += psd[k]
            if psd[k] > 0 { sumLog += log(psd[k]) } else { anyZero = true }
        }
        let meanP = sumP / nb
        let flatness = (anyZero || meanP <= 0) ? 0 : exp(sumLog / nb) / meanP
        let lnExpected = Distributions.digamma(keff) - log(keff)
        let flatSD = (2 * max(0, Distributions.trigamma(keff) - 1 / keff) / nb).squareRoot()
        let flatLimit = exp(lnExpected - Distributions.normalQuantile(1 - a) * flatSD)
        checks.append(CheckResult(
            name: "flatness", passed: flatness >= flatLimit, value: flatness, limit: flatLimit, applies: uniform,
            detail: String(format: "spectral flatness over %d bins (expected %.5f for white noise, K_eff = %.1f); passes when value >= limit",
                           tested.count, exp(lnExpected), keff)))

        let sortedP = tested.map { psd[$0] }.sorted()
        let median = sortedP.count % 2 == 1 ? sortedP[sortedP.count / 2]
            : 0.5 * (sortedP[sortedP.count / 2 - 1] + sortedP[sortedP.count / 2])
        var worst = 0.0, worstHz = 0.0
        for k in tested {
            let r = median > 0 ? psd[k] / median : (psd[k] > 0 ? 1e300 : 1)
            if r > worst { worst = r; worstHz = welch.frequencyHz[k] }
        }
        let dof = 2 * keff
        let qMax = Distributions.chiSquareUpperQuantile(df: dof, upperTail: a / 2 / nb) / dof
        let medExpected = Distributions.chiSquareLowerQuantile(df: dof, lowerTail: 0.5) / dof
        let medSD = (Double.pi / 2 * (2 / dof) / nb).squareRoot()
        let medLower = max(1e-3, medExpected - Distributions.normalQuantile(1 - a / 2) * medSD)
        let spurLimit = qMax / medLower
        var spurs: [Double] = []
        for k in tested where median > 0 && psd[k] / median > spurLimit && spurs.count < 64 {
            spurs.append(welch.frequencyHz[k])
        }
        checks.append(CheckResult(
            name: "tonal-spur", passed: worst <= spurLimit, value: Self.finite(worst), limit: spurLimit, applies: true,
            detail: String(format: "highest noise PSD bin over the median: %.2f dB at %.1f Hz (limit %.2f dB); %d bins above the limit",
                           10 * log10(max(worst, 1e-300)), worstHz, 10 * log10(spurLimit), spurs.count)))

        // 5. independence
        let coh = welch.coherence
        var cohSum = 0.0, cohMax = 0.0, cohMaxHz = 0.0
        for k in tested {
            cohSum += coh[k]
            if coh[k] > cohMax { cohMax = coh[k]; cohMaxHz = welch.frequencyHz[k] }
        }
        let cohMean = cohSum / nb
        let level = 1 / keff
        let cohMaxLimit = keff > 1 ? 1 - pow(a / 2 / nb, 1 / (keff - 1)) : 1
        let binSD = keff > 1 ? ((keff - 1) / (keff * keff * (keff + 1))).squareRoot() : 1
        let cohMeanLimit = min(1, level + Distributions.normalQuantile(1 - a / 2) * 2.0.squareRoot() * binSD / nb.squareRoot())
        if welch.segments >= 2 {
            checks.append(CheckResult(
                name: "coherence", passed: cohMax <= cohMaxLimit && cohMean <= cohMeanLimit, value: cohMax, limit: cohMaxLimit,
                applies: uniform,
                detail: String(format: "max MSC between noise and codes %.4f at %.1f Hz; mean %.5f (limit %.5f, independent level 1/K_eff = %.5f)",
                               cohMax, cohMaxHz, cohMean, cohMeanLimit, level)))
        } else {
            checks.append(.skipped("coherence", applies: uniform, reason:
                "needs at least \(config.nperseg + hop) samples (two Welch segments, --nperseg \(config.nperseg)), has \(samples): the coherence of one segment is 1 everywhere"))
        }

        let f = welch.frequencyHz
        return Spectra(
            keff: keff,
            noise: .init(frequencyHz: f, density: psd, decibelsRelativeToFloor: db, floorDensity: floor,
                         meanRelativeToFloor: meanP / floor, flatness: flatness, expectedFlatness: exp(lnExpected),
                         flatnessLimit: flatLimit, worstSpurRatio: Self.finite(worst), worstSpurHz: worstHz,
                         spurLimit: spurLimit, spurFrequenciesHz: spurs),
            coherence: .init(frequencyHz: f, msc: coh, mean: cohMean, max: cohMax, maxHz: cohMaxHz,
                             independenceLevel: level, meanLimit: cohMeanLimit, maxLimit: cohMaxLimit))
    }

    /// Replaces ±∞/NaN by ±1e300/0 so the JSON stays numeric.
    static func finite(_ v: Double) -> Double {
        v.isNaN ? 0 : min(1e300, max(-1e300, v))
    }
}
