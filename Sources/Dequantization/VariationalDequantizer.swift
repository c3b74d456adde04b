import Foundation
import DiscreteAudio
import FlowEngine

/// Variational dequantization of whole files with a trained q(u | x), in fixed windows, into the
/// cells of a quantizer q was trained in (`TrainedCells`).
///
/// **Cells.** q is conditioned exactly as in training, `SequenceCells.condition` of the file's
/// quantizer (container cells: c = 2x/K − 1), and its u ∈ (0, 1) is placed into each code's cell:
/// container cells as before (`DequantizedValue.place`: y = RN((x + offset + u)·scale) in Double,
/// rounded once to the dtype, top guard), every other quantizer as uniform noise is
/// (`CellDequantizer.place`: float64 y = RN(lower' + RN(u·w')), float32 the nearest float32 to the
/// image of lower + u24·2⁻²⁴·w with u24 = min(RN(u·2²⁴), 2²⁴ − 1), top guard), so each value
/// decodes to its code's cell in both ranges and dtypes. log q is q's own density of u (nats per
/// sample; the width term W of training is not in it). A code off the quantizer stops the stream
/// with `DequantizationError.codeOffQuantizer` (the first one read, before q runs on it).
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
    /// The cells the codes go into.
    public let quantizer: Quantizer
    /// q's condition per code, as training computes it.
    let cells: SequenceCells
    /// Non-container cells: where u is placed (`CellDequantizer.place`); nil for container cells.
    let placement: CellDequantizer?
    private let noise: NoiseFlow
    /// u (and log q when the caller keeps none) of the latest block.
    private var scratch: [Float] = []

    /// `quantizer` nil: container cells of the model's encoding. Throws `wrongMethod` for a model
    /// without q and `cellsNotTrained` for cells q was not trained in.
    public init(model: DequantModel, quantizer: Quantizer? = nil, range: DequantRange, key: NoiseKey, channels: Int,
                threads: Int) throws {
        guard let noise = model.noise else {
            throw DequantizationError.wrongMethod(path: "model", expected: .variational, found: .uniform)
        }
        let quantizer = quantizer ?? .container(model.encoding)
        guard model.trainedCells.fits(quantizer) else {
            throw DequantizationError.cellsNotTrained(path: "data", model: "model", trained: model.trainedCells,
                                                      quantizer: quantizer, reason: nil)
        }
        self.quantizer = quantizer
        cells = SequenceCells(quantizer)
        placement = quantizer.kind == .container ? nil : CellDequantizer(quantizer: quantizer, range: range, key: key)
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
        var e = [Float](repeating: 0, count: items * t)
        var x = [UInt32](repeating: 0, count: items * t)
        var c = [Float](repeating: 0, count: items * t)
        for (w, win) in windows.enumerated() {
            precondition(win.hi - win.lo == len0)
            for ch in 0..<channels {
                let item = w * channels + ch
                for j in 0..<t {
                    let f = min(win.lo + j, win.hi - 1)
                    x[item * t + j] = bins[(f - base) * channels + ch]
                    // ε layout (B, 2, T/2): even samples first, then odd
                    e[item * t + (j & 1) * (t / 2) + j / 2] = eps((win.lo + j) * channels + ch)
                }
            }
        }
        x.withUnsafeBufferPointer { xp in
            c.withUnsafeMutableBufferPointer { cp in
                for item in 0..<items { cells.condition(xp.baseAddress! + item * t, count: t, into: cp.baseAddress! + item * t) }
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
/// u placed into the cells with the top guard (see the type), and log q is written per sample.
/// Non-container cells: the block's codes (context included) are checked first, and the first
/// one off the quantizer throws `codeOffQuantizer` with its interleaved index. The blocks are fixed by the file's core grid: `preferredFrames` is ignored, so
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
        if let placement, let bad = placement.lookup.firstOffQuantizer(UnsafeBufferPointer(rebasing: codes[0..<block.codeCount])) {
            throw DequantizationError.codeOffQuantizer(quantizer: quantizer.description, index: block.codeFrames.lowerBound * channels + bad,
                                                       bin: Int(codes[bad]))
        }
        if scratch.count < 2 * n { scratch = [Float](repeating: 0, count: 2 * n) }
        let k = model.binCount
        let windows = batch(startingAt: block.frames.lowerBound, frames: block.layout.frames)
        try scratch.withUnsafeMutableBufferPointer { s in
            let u = s.baseAddress!
            try run(windows: windows, bins: codes, base: block.codeFrames.lowerBound, u: u,
                    logq: logQ?.baseAddress ?? u + n, outBase: block.frames.lowerBound)
            let core = codes.baseAddress! + block.coreOffset, out = UnsafeMutableBufferPointer(rebasing: values[0..<n])
            if let placement {
                let bad = Value.place(placement, bins: UnsafeBufferPointer(start: core, count: n), u: u, into: out)
                precondition(bad == nil, "every code was checked to be on the quantizer")
            } else {
                Value.place(bins: core, u: u, offset: range.offset(binCount: k), scale: range.scale(binCount: k), into: out)
            }
        }
    }
}
