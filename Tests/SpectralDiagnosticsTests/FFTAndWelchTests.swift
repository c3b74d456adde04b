import Foundation
import Testing
@testable import SpectralDiagnostics

@Suite struct FFTAndWelchTests {
    /// Naive O(n²) DFT in Double: X_k = Σ x_t e^{−2πi kt/n}.
    static func naiveDFT(_ x: [Double]) -> (re: [Double], im: [Double]) {
        let n = x.count
        var re = [Double](repeating: 0, count: n / 2 + 1), im = re
        for k in 0...(n / 2) {
            for t in 0..<n {
                let phase = -2 * Double.pi * Double(k * t % n) / Double(n)
                re[k] += x[t] * cos(phase)
                im[k] += x[t] * sin(phase)
            }
        }
        return (re, im)
    }

    @Test(arguments: [8, 30, 64, 100])
    func fftMatchesNaiveDFT(n: Int) throws {
        var rng = TestRandom(seed: UInt64(n))
        let x = (0..<n).map { _ in rng.nextDouble() * 2 - 1 + 0.3 }
        let fft = try RealFFT(length: n)
        let (re, im) = fft.transform(x)
        let ref = Self.naiveDFT(x)
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot() * Double(n).squareRoot()
        #expect(re.count == n / 2 + 1)
        for k in 0...(n / 2) {
            #expect(abs(re[k] - ref.re[k]) < 1e-6 * norm, "re bin \(k)")
            #expect(abs(im[k] - ref.im[k]) < 1e-6 * norm, "im bin \(k)")
        }
        // a pure cosine lands in exactly one bin
        let k0 = n / 4
        let c = (0..<n).map { cos(2 * Double.pi * Double(k0 * $0) / Double(n)) }
        let (cr, ci) = fft.transform(c)
        for k in 0...(n / 2) {
            let mag = (cr[k] * cr[k] + ci[k] * ci[k]).squareRoot()
            #expect(abs(mag - (k == k0 ? Double(n) / 2 : 0)) < 1e-4)
        }
    }

    @Test func plansFromManyTasksAtOnce() async throws {
        // Planning is serialized by the module's lock; this would be a data race otherwise.
        try await withThrowingTaskGroup(of: Double.self) { group in
            for i in 0..<16 {
                group.addTask {
                    let fft = try RealFFT(length: 64 + 2 * i)
                    return fft.transform([Double](repeating: 1, count: 64 + 2 * i)).re[0]
                }
            }
            var total = 0.0
            for try await v in group { total += v }
            #expect(total == Double((0..<16).reduce(0) { $0 + 64 + 2 * $1 }))
        }
    }

    struct Reference: Decodable {
        var sampleRate: Double
        var nperseg: Int
        var noise: [Double]
        var codes: [Double]
        var frequencyHz: [Double]
        var noisePSD: [Double]
        var codesPSD: [Double]
        var sumPSD: [Double]
        var coherence: [Double]
    }

    static func loadReference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "welch_reference", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static func maxRelativeError(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        var worst = 0.0
        for i in a.indices {
            let scale = max(abs(b[i]), 1e-300)
            worst = max(worst, abs(a[i] - b[i]) / scale)
        }
        return worst
    }

    @Test func welchAndCoherenceMatchScipy() throws {
        let ref = try Self.loadReference()
        let welch = try WelchEstimator(nperseg: ref.nperseg, sampleRate: ref.sampleRate)
        // feed in uneven pieces to exercise the overlap buffer
        var i = 0, piece = 1
        while i < ref.noise.count {
            let j = min(ref.noise.count, i + piece)
            welch.append(a: Array(ref.noise[i..<j]), b: Array(ref.codes[i..<j]))
            i = j
            piece = piece * 3 % 1000 + 7
        }
        let r = welch.result()
        #expect(r.segments == (ref.noise.count - ref.nperseg) / (ref.nperseg / 2) + 1)
        #expect(r.frequencyHz == ref.frequencyHz)
        #expect(Self.maxRelativeError(r.pAA, ref.noisePSD) < 1e-4)
        #expect(Self.maxRelativeError(r.pBB, ref.codesPSD) < 1e-4)
        #expect(Self.maxRelativeError(r.pSum, ref.sumPSD) < 1e-4)
        #expect(Self.maxRelativeError(r.coherence, ref.coherence) < 1e-4)
    }
}

@Suite struct DistributionTests {
    @Test func knownQuantiles() {
        #expect(abs(Distributions.normalQuantile(0.975) - 1.959963985) < 1e-8)
        #expect(abs(Distributions.chiSquareUpperQuantile(df: 20, upperTail: 0.01) - 37.5662) < 1e-3)
        #expect(abs(Distributions.chiSquareUpperQuantile(df: 10, upperTail: 0.05) - 18.307) < 1e-3)
        #expect(abs(Distributions.chiSquareLowerQuantile(df: 4, lowerTail: 0.5) - 3.35669) < 1e-4)
        #expect(abs(Distributions.ksCritical(n: 10_000, alpha: 0.01) - 0.01626) < 2e-5)
        #expect(abs(Distributions.ksCritical(n: 1_000_000, alpha: 0.01) - 0.001627) < 2e-6)
        #expect(abs(Distributions.digamma(1) + 0.5772156649) < 1e-9)
        #expect(abs(Distributions.trigamma(1) - Double.pi * Double.pi / 6) < 1e-9)
    }
}
