import Foundation

/// Quantiles and special functions the checks derive their limits from.
///
/// Everything here is computed from first principles (series, continued fractions, bisection) in
/// Double; no tables. Accuracy is far better than the statistical approximations the checks make.
public enum Distributions {
    /// Standard normal CDF Φ(z) = ½·erfc(−z/√2).
    public static func normalCDF(_ z: Double) -> Double {
        0.5 * erfc(-z / 2.0.squareRoot())
    }

    /// Standard normal quantile: the z with Φ(z) = p, 0 < p < 1 (bisection on `normalCDF`,
    /// then one Newton step; |error| < 1e-12).
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "probability must be in (0, 1)")
        var lo = -40.0, hi = 40.0
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if normalCDF(mid) < p { lo = mid } else { hi = mid }
            if hi - lo < 1e-13 { break }
        }
        return 0.5 * (lo + hi)
    }

    /// Regularized lower incomplete gamma P(a, x) = γ(a, x)/Γ(a), a > 0, x ≥ 0.
    public static func gammaP(_ a: Double, _ x: Double) -> Double {
        if x <= 0 { return 0 }
        if x < a + 1 { return gammaSeries(a, x) }
        return 1 - gammaContinuedFraction(a, x)
    }

    /// Regularized upper incomplete gamma Q(a, x) = 1 − P(a, x), accurate in the far upper tail.
    public static func gammaQ(_ a: Double, _ x: Double) -> Double {
        if x <= 0 { return 1 }
        if x < a + 1 { return 1 - gammaSeries(a, x) }
        return gammaContinuedFraction(a, x)
    }

    /// Series γ(a,x)/Γ(a) = e^{−x} x^a / Γ(a+1) · Σ x^n / ((a+1)…(a+n)).
    private static func gammaSeries(_ a: Double, _ x: Double) -> Double {
        var term = 1.0 / a, sum = term, ap = a
        for _ in 0..<100_000 {
            ap += 1
            term *= x / ap
            sum += term
            if abs(term) < abs(sum) * 1e-16 { break }
        }
        return sum * exp(-x + a * log(x) - lgamma(a))
    }

    /// Lentz continued fraction for Γ(a,x)/Γ(a).
    private static func gammaContinuedFraction(_ a: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<100_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b; if abs(d) < tiny { d = tiny }
            c = b + an / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(-x + a * log(x) - lgamma(a)) * h
    }

    /// Upper quantile of the chi-square distribution with `df` (> 0, not necessarily integer)
    /// degrees of freedom: the x with P(χ² > x) = `upperTail` (bisection on Q(df/2, x/2)).
    public static func chiSquareUpperQuantile(df: Double, upperTail q: Double) -> Double {
        precondition(df > 0 && q > 0 && q < 1)
        var lo = 0.0, hi = max(10.0, df)
        while gammaQ(df / 2, hi / 2) > q { hi *= 2 }
        for _ in 0..<300 {
            let mid = 0.5 * (lo + hi)
            if gammaQ(df / 2, mid / 2) > q { lo = mid } else { hi = mid }
            if hi - lo <= 1e-12 * hi { break }
        }
        return 0.5 * (lo + hi)
    }

    /// Lower quantile of χ²(df): the x with P(χ² ≤ x) = `lowerTail`.
    public static func chiSquareLowerQuantile(df: Double, lowerTail p: Double) -> Double {
        precondition(df > 0 && p > 0 && p < 1)
        var lo = 0.0, hi = max(10.0, df)
        while gammaP(df / 2, hi / 2) < p { hi *= 2 }
        for _ in 0..<300 {
            let mid = 0.5 * (lo + hi)
            if gammaP(df / 2, mid / 2) < p { lo = mid } else { hi = mid }
            if hi - lo <= 1e-12 * hi { break }
        }
        return 0.5 * (lo + hi)
    }

    /// Digamma ψ(x), x > 0: recurrence ψ(x) = ψ(x+1) − 1/x up to x ≥ 8, then the asymptotic series
    /// ln x − 1/(2x) − Σ B₂ₖ/(2k x^{2k}).
    public static func digamma(_ x: Double) -> Double {
        precondition(x > 0)
        var x = x, result = 0.0
        while x < 8 { result -= 1 / x; x += 1 }
        let f = 1 / (x * x)
        result += log(x) - 0.5 / x
            - f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f / 132))))
        return result
    }

    /// Trigamma ψ′(x), x > 0: recurrence ψ′(x) = ψ′(x+1) + 1/x², then
    /// 1/x + 1/(2x²) + Σ B₂ₖ/x^{2k+1}.
    public static func trigamma(_ x: Double) -> Double {
        precondition(x > 0)
        var x = x, result = 0.0
        while x < 8 { result += 1 / (x * x); x += 1 }
        let f = 1 / (x * x)
        result += 1 / x + f / 2
            + f / x * (1.0 / 6 - f * (1.0 / 30 - f * (1.0 / 42 - f / 30)))
        return result
    }

    /// Asymptotic Kolmogorov survival function P(√n·D > λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}.
    public static func kolmogorovSurvival(_ lambda: Double) -> Double {
        if lambda <= 0.2 { return 1 }
        var sum = 0.0
        for k in 1...100 {
            let kk = Double(k)
            let term = exp(-2 * kk * kk * lambda * lambda)
            sum += (k % 2 == 1 ? term : -term)
            if term < 1e-18 { break }
        }
        return min(1, max(0, 2 * sum))
    }

    /// Critical KS distance for n samples at level α (one-sample, two-sided), with Stephens'
    /// finite-n correction: D_crit = λ_α / (√n + 0.12 + 0.11/√n), where P(K > λ_α) = α.
    /// Examples at α = 0.01: 0.01626 (n = 1e4), 0.001627 (n = 1e6).
    public static func ksCritical(n: Int, alpha: Double) -> Double {
        precondition(n > 0 && alpha > 0 && alpha < 1)
        var lo = 0.2, hi = 10.0
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if kolmogorovSurvival(mid) > alpha { lo = mid } else { hi = mid }
        }
        let s = Double(n).squareRoot()
        return 0.5 * (lo + hi) / (s + 0.12 + 0.11 / s)
    }
}
