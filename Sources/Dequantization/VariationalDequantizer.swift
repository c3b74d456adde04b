import Foundation
import DiscreteAudio
import FlowEngine

/// Variational dequantization of whole files with a trained q(u | x), in fixed windows.
///
/// The file is cut into cores of `core` frames (a fixed grid from frame 0); each core is computed
/// in a window that adds `context` frames on both sides (clipped at the file's ends), which covers
/// q's receptive field (4 couplings × dilations 1+2+4 on the half-rate grid: 56 samples for the
/// reference; 256 frames of context then, or q's receptive field rounded up to a multiple of 256
/// for wider q's), so a core's u does not depend on where the file was cut: no block-edge artifacts.
/// Base noise ε is counter-based, keyed by the interleaved sample index (frame·channels + channel):
/// Gaussian by Box–Muller from two 26-bit uniforms of bits(i), logistic as log(r/(1−r)). Windows
/// are batched (and split over threads) without changing any item's arithmetic, so the output
/// depends only on (model, seed, stream, file), not on threads. Values are placed with the same
/// top guard as uniform noise: every value decodes to its code.
public final class VariationalDequantizer {
    public static let core = 16384
    public static let minimumContext = 256

    /// Frames of context on each side of a core for a q with this configuration.
    public static func context(for q: NoiseFlow.Configuration) -> Int {
        max(minimumContext, (q.receptiveField + 255) / 256 * 256)
    }

    public let model: DequantModel
    public let range: DequantRange
    public let rng: CounterRNG
    public let channels: Int
    private let noise: NoiseFlow
    /// u (and log q when the caller keeps none) of the latest block.
    private var scratch: [Float] = []

    public init(model: DequantModel, range: DequantRange, key: NoiseKey, channels: Int, threads: Int) throws {
        guard let noise = model.noise else {
            throw DequantizationError.wrongMethod(path: "model", expected: .variational, found: .uniform)
        }
        self.model = model
        self.noise = noise
        self.range = range
        self.rng = CounterRNG(key: key)
        self.channels = channels
        try BLAS.ensureLoaded()
        BLAS.setThreads(1)
        noise.workers = max(1, threads)
    }

    /// ε for interleaved sample index i.
    @inline(__always)
    func eps(_ i: Int) -> Float {
        let h = rng.bits(UInt64(i))
        switch noise.configuration.base {
        case .standardNormal:
            let r1 = (Double(h >> 38) + 0.5) * 0x1p-26, r2 = Double((h >> 12) & 0x3FF_FFFF) * 0x1p-26
            return Float((-2 * Foundation.log(r1)).squareRoot() * Foundation.cos(2 * Double.pi * r2))
        case .standardLogistic:
            let r = (Double(h >> 11) + 0.5) * 0x1p-53
            return Float(Foundation.log(r) - Foundation.log1p(-r))
        }
    }

    /// A window: frames lo..<hi of the file (hi − lo even), whose frames core..<coreEnd are kept.
    public struct Window: Sendable {
        public var lo: Int, hi: Int, coreLo: Int, coreHi: Int
        public init(lo: Int, hi: Int, coreLo: Int, coreHi: Int) {
            self.lo = lo
            self.hi = hi
            self.coreLo = coreLo
            self.coreHi = coreHi
        }
    }

    /// The windows of a file of `frames` frames for this dequantizer's q.
    public func windows(frames: Int) -> [Window] {
        Self.windows(frames: frames, context: Self.context(for: noise.configuration))
    }

    /// The windows of a file of `frames` frames, with `context` frames on each side of a core.
    public static func windows(frames: Int, context: Int = minimumContext) -> [Window] {
        var out: [Window] = []
        var c = 0
        while c < frames {
            out.append(window(core: c, frames: frames, context: context))
            c = out.last!.coreHi
        }
        return out
    }

    /// The window of the core that starts at frame `c` (a multiple of `core`): frames
    /// c ..< min(frames, c + core) kept, computed over `context` more frames on each side, clipped
    /// at the file's ends, and one more frame at the end when that makes the length even.
    public static func window(core c: Int, frames: Int, context: Int) -> Window {
        let ce = min(frames, c + core)
        let lo = max(0, c - context)
        var hi = min(frames, ce + context)
        if (hi - lo) % 2 == 1 { hi = hi < frames ? hi + 1 : hi }
        return Window(lo: lo, hi: hi, coreLo: c, coreHi: ce)
    }

    /// Most windows computed in one call of q (one `DequantizationBlock`).
    public static let batchWindows = 8

    /// The windows of the block that starts with the core at frame `start`, for this
    /// dequantizer's q.
    public func batch(startingAt start: Int, frames: Int) -> [Window] {
        Self.batch(startingAt: start, frames: frames, context: Self.context(for: noise.configuration))
    }

    /// The windows of the block that starts with the core at frame `start` (0 or the end of the
    /// previous block's cores): up to `batchWindows` consecutive windows of equal length (q runs
    /// them as one batch). Chained from frame 0 the cores are those of `windows(frames:context:)`.
    public static func batch(startingAt start: Int, frames: Int, context: Int) -> [Window] {
        var out = [window(core: start, frames: frames, context: context)]
        while out.count < batchWindows && out.last!.coreHi < frames {
            let next = window(core: out.last!.coreHi, frames: frames, context: context)
            guard next.hi - next.lo == out[0].hi - out[0].lo else { break }
            out.append(next)
        }
        return out
    }

    /// Computes u and per-sample log q for a batch of windows of equal length over `bins`
    /// (interleaved frames, starting at frame `base`). Writes the cores' u and log q into
    /// `u`/`logq` (interleaved, indexed from frame `outBase`). Odd-length windows (only possible
    /// for a window that ends at the file's end) are padded with one repeated last frame.
    public func run(windows: [Window], bins: UnsafeBufferPointer<UInt32>, base: Int,
                    u: UnsafeMutablePointer<Float>, logq: UnsafeMutablePointer<Float>, outBase: Int) throws {
        guard let first = windows.first else { return }
        let len0 = first.hi - first.lo
        let t = len0 + (len0 & 1)
        let items = windows.count * channels
        let k = Float(model.binCount)
        var e = [Float](repeating: 0, count: items * t)
        var c = [Float](repeating: 0, count: items * t)
        for (w, win) in windows.enumerated() {
            precondition(win.hi - win.lo == len0)
            for ch in 0..<channels {
                let item = w * channels + ch
                for j in 0..<t {
                    let f = min(win.lo + j, win.hi - 1)
                    let x = bins[(f - base) * channels + ch]
                    c[item * t + j] = Float(x) * (2 / k) - 1
                    // ε layout (B, 2, T/2): even samples first, then odd
                    e[item * t + (j & 1) * (t / 2) + j / 2] = eps((win.lo + j) * channels + ch)
                }
            }
        }
        var uw = [Float](repeating: 0, count: items * t)
        var lqItem = [Float](repeating: 0, count: items)
        var lq = [Float](repeating: 0, count: items * t)
        try e.withUnsafeBufferPointer { ep in
            try c.withUnsafeBufferPointer { cp in
                try uw.withUnsafeMutableBufferPointer { up in
                    try lqItem.withUnsafeMutableBufferPointer { lp in
                        try noise.forward(eps: ep.baseAddress!, condition: cp.baseAddress!, batch: items, length: t,
                                          u: up.baseAddress!, logq: lp.baseAddress!)
                    }
                }
            }
        }
        try lq.withUnsafeMutableBufferPointer { try noise.logQPerSample($0.baseAddress!) }
        for (w, win) in windows.enumerated() {
            for ch in 0..<channels {
                let item = w * channels + ch
                for f in win.coreLo..<win.coreHi {
                    let j = f - win.lo
                    u[(f - outBase) * channels + ch] = uw[item * t + j]
                    logq[(f - outBase) * channels + ch] = lq[item * t + j]
                }
            }
        }
    }
}

/// Streaming: a block is one batch of windows (`batch(startingAt:frames:)`); its values are
/// u placed into the bins with the top guard (`UniformDequantizer.place`), and log q is written
/// per sample. The blocks are fixed by the file's core grid: `preferredFrames` is ignored, so
/// the values do not depend on the caller's chunk size.
extension VariationalDequantizer: Dequantizer {
    public var producesLogQ: Bool { true }

    public func block(startingAt start: Int, of layout: StreamLayout, preferredFrames: Int) -> DequantizationBlock {
        let windows = batch(startingAt: start, frames: layout.frames)
        return DequantizationBlock(frames: windows.first!.coreLo..<windows.last!.coreHi,
                                   codeFrames: windows.first!.lo..<windows.last!.hi, layout: layout)
    }

    public func dequantize<Value: DequantizedValue>(_ block: DequantizationBlock, codes: UnsafeBufferPointer<UInt32>,
                                                    into values: UnsafeMutableBufferPointer<Value>,
                                                    logQ: UnsafeMutableBufferPointer<Float>?) throws {
        precondition(block.layout.channels == channels && codes.count >= block.codeCount && values.count >= block.sampleCount)
        let n = block.sampleCount
        if scratch.count < 2 * n { scratch = [Float](repeating: 0, count: 2 * n) }
        let k = model.binCount
        let windows = batch(startingAt: block.frames.lowerBound, frames: block.layout.frames)
        try scratch.withUnsafeMutableBufferPointer { s in
            let u = s.baseAddress!
            try run(windows: windows, bins: codes, base: block.codeFrames.lowerBound, u: u,
                    logq: logQ?.baseAddress ?? u + n, outBase: block.frames.lowerBound)
            Value.place(bins: codes.baseAddress! + block.coreOffset, u: u, offset: range.offset(binCount: k),
                        scale: range.scale(binCount: k), into: UnsafeMutableBufferPointer(rebasing: values[0..<n]))
        }
    }
}
