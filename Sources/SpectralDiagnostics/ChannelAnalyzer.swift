import DiscreteAudio
import Foundation

/// Streaming analyser of ONE channel. Feed it contiguous pieces in order; memory does not grow
/// with length (one Welch segment, L lags, the block-fold phases, fixed histograms).
///
/// Per sample with code x and stored value y:
/// - y not finite → `nonFinite`; y outside [lower, 1) → `outOfRange`; bin(y) ≠ x → `binLeakage`.
///   These samples are left out of the within-bin statistics; in the spectral streams they use
///   n = 0 (non-finite) or their position relative to x clamped to [−1, 2] − ½ so that spectra stay
///   finite.
/// - otherwise w = `DequantRange.position(of: y, bin: x)` ∈ [0, 1) feeds the within-bin summary
///   (with its storage grid step) and n = w − ½ the noise streams (Welch with x, autocorrelation,
///   block fold).
///
/// Not thread-safe: use one analyser per channel per task. FFTW plans are made once, in `init`.
public final class ChannelAnalyzer {
    public let config: DiagnosticsConfig
    public let sampleRate: Double
    public let binCount: Int
    public let range: DequantRange
    public let precision: ValuePrecision

    private let welch: WelchEstimator
    private var withinBin = WithinBinAccumulator()
    private var acf: AutocorrelationAccumulator
    private var fold: BlockFoldAccumulator
    private var containment = ChannelReport.Containment(binLeakage: 0, nonFinite: 0, outOfRange: 0)
    private var samples = 0
    private var finished = false
    /// The first misuse seen by `add`, reported by `finish()`.
    private var pendingError: SpectralDiagnosticsError?
    /// Scratch for one chunk of noise and codes (allocated once).
    private let noiseChunk: UnsafeMutablePointer<Double>
    private let codeChunk: UnsafeMutablePointer<Double>
    private static let chunk = 4096

    /// The cells positions are measured in: nil or `container`, the code's own bin (`binCount`);
    /// otherwise w = `Quantizer.position` of y in the code's cell on the quantizer's scale, and a
    /// value outside the code's cell counts as leakage.
    public var quantizer: Quantizer?

    public init(config: DiagnosticsConfig, sampleRate: Double, binCount: Int, range: DequantRange,
                precision: ValuePrecision) throws {
        try config.validate()
        guard sampleRate.isFinite, sampleRate > 0, binCount >= 2, binCount & (binCount - 1) == 0 else {
            throw SpectralDiagnosticsError.invalidSignal(sampleRate: sampleRate, binCount: binCount)
        }
        self.config = config
        self.sampleRate = sampleRate
        self.binCount = binCount
        self.range = range
        self.precision = precision
        welch = try WelchEstimator(nperseg: config.nperseg, sampleRate: sampleRate)
        acf = AutocorrelationAccumulator(lags: config.lags)
        fold = BlockFoldAccumulator(candidates: config.blockLength.map { [$0] } ?? BlockFoldAccumulator.defaultCandidates)
        noiseChunk = .allocate(capacity: Self.chunk)
        codeChunk = .allocate(capacity: Self.chunk)
    }

    deinit {
        noiseChunk.deallocate()
        codeChunk.deallocate()
    }

    /// codes: bin indices x (0..<K) of the original; values: the dequantized y as written (Float
    /// or Double widened exactly to Double). Same count: a piece with different counts, or any
    /// piece after `finish()`, is ignored and makes the next `finish()` throw
    /// (`.countMismatch`, `.alreadyFinished`).
    public func add(codes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>) {
        guard codes.count == values.count else {
            if pendingError == nil { pendingError = .countMismatch(codes: codes.count, values: values.count) }
            return
        }
        guard !finished else { return }
        var begin = 0
        while begin < codes.count {
            let end = min(codes.count, begin + Self.chunk)
            let m = end - begin
            // one exclusive access per chunk (not per sample) to the accumulators
            Self.scan(quantizer: quantizer, codes: UnsafeBufferPointer(rebasing: codes[begin..<end]),
                      values: UnsafeBufferPointer(rebasing: values[begin..<end]),
                      range: range, binCount: binCount, precision: precision,
                      noise: noiseChunk, code: codeChunk, withinBin: &withinBin, containment: &containment)
            let noiseBuffer = UnsafeBufferPointer(start: noiseChunk, count: m)
            acf.add(noiseBuffer)
            fold.add(noiseBuffer)
            welch.append(a: noiseBuffer, b: UnsafeBufferPointer(start: codeChunk, count: m))
            samples += m
            begin = end
        }
    }

    /// Classifies one chunk (containment), feeds the within-bin summary, and writes the noise
    /// n = w − ½ and the codes as Double into `noise`/`code` (capacity ≥ codes.count).
    private static func scan(quantizer: Quantizer?, codes: UnsafeBufferPointer<UInt32>, values: UnsafeBufferPointer<Double>,
                             range: DequantRange, binCount k: Int, precision: ValuePrecision,
                             noise: UnsafeMutablePointer<Double>, code: UnsafeMutablePointer<Double>,
                             withinBin: inout WithinBinAccumulator, containment: inout ChannelReport.Containment) {
        let lower = range.lowerBound, upper = range.upperBound
        let fine = precision == .float64
        if let q = quantizer, q.kind != .container {
            let sz = q.scaleSize, half = Double(sz / 2)
            let sc = range.scale(binCount: sz), off = Double(range.offset(binCount: sz))
            for i in 0..<codes.count {
                let x = Int(codes[i])
                let y = values[i]
                let t = range == .unit ? y * Double(sz) - half : y * half
                var w = 0.5
                if !y.isFinite {
                    containment.nonFinite += 1
                } else if let j = q.cell(ofBin: x) {
                    w = q.position(of: t, inCell: j)
                    if y < lower || y >= upper {
                        containment.outOfRange += 1
                        w = min(2, max(-1, w))
                    } else if q.cell(ofY: y, range: range) != j {
                        containment.binLeakage += 1
                        w = min(2, max(-1, w))
                    } else {
                        let (lo, hi) = q.cell(j)
                        let e = fine ? WithinBinAccumulator.minExponent
                            : precision.gridStep(midpoint: sc * (Double(lo + hi) / 2 + half + off), binWidth: sc * Double(hi - lo)).exponent
                        withinBin.add(w, stepExponent: e)
                    }
                } else {
                    containment.binLeakage += 1   // a code the quantizer cannot produce has no cell
                }
                noise[i] = w - 0.5
                code[i] = Double(x)
            }
            return
        }
        let scale = range.scale(binCount: k)
        let offset = Double(range.offset(binCount: k))
        for i in 0..<codes.count {
            let x = Int(codes[i])
            let y = values[i]
            var w: Double
            if !y.isFinite {
                containment.nonFinite += 1
                w = 0.5
            } else if y < lower || y >= upper {
                containment.outOfRange += 1
                w = min(2, max(-1, range.position(of: y, bin: x, binCount: k)))
            } else {
                w = range.position(of: y, bin: x, binCount: k)
                if range.bin(of: y, binCount: k) != x {
                    containment.binLeakage += 1
                    w = min(2, max(-1, w))
                } else {
                    let e: Int
                    if fine {
                        e = WithinBinAccumulator.minExponent
                    } else {
                        let mid = scale * (Double(x) + offset + 0.5)
                        e = precision.gridStep(midpoint: mid, binWidth: scale).exponent
                    }
                    withinBin.add(w, stepExponent: e)
                }
            }
            noise[i] = w - 0.5
            code[i] = Double(x)
        }
    }

    /// Convenience for arrays (same count).
    public func add(codes: [UInt32], values: [Double]) {
        codes.withUnsafeBufferPointer { cp in values.withUnsafeBufferPointer { vp in add(codes: cp, values: vp) } }
    }

    /// Computes every metric and every check the length allows (any length, 0 included; the
    /// others are reported as skipped, see `ChannelReport`). Throws `.alreadyFinished` on a
    /// second call.
    public func finish() throws -> ChannelReport {
        guard !finished else { throw SpectralDiagnosticsError.alreadyFinished }
        if let pendingError { throw pendingError }
        finished = true
        return ChannelReportBuilder(
            config: config, sampleRate: sampleRate, samples: samples,
            welch: welch.segments > 0 ? welch.result() : nil, hop: welch.hop, window: welch.window,
            withinBin: withinBin, acf: acf, fold: fold,
            containment: containment
        ).build()
    }
}
