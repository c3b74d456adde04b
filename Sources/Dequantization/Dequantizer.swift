import Dispatch

/// A stream of interleaved samples: `frames` frames of `channels` samples each. Sample index
/// i = frame · channels + channel is what counter-based noise is keyed by.
public struct StreamLayout: Sendable, Equatable {
    public var frames: Int
    public var channels: Int

    public init(frames: Int, channels: Int) {
        self.frames = frames
        self.channels = channels
    }
}

/// One step of a dequantizing stream: the values of frames `frames` are computed at once from
/// the codes of frames `codeFrames` (which contains `frames`: a dequantizer may look at context
/// on either side).
///
/// Invariant: consecutive blocks of one stream (`Dequantizer.block(startingAt:of:preferredFrames:)`
/// from frame 0, each starting where the last ended) partition 0..<layout.frames, and their
/// `codeFrames` start and end no earlier than the previous block's, so the codes can be read once,
/// in order, keeping only the overlap.
public struct DequantizationBlock: Sendable, Equatable {
    /// Frames whose values this block produces.
    public var frames: Range<Int>
    /// Frames of codes the dequantizer reads to produce them.
    public var codeFrames: Range<Int>
    public var layout: StreamLayout

    public init(frames: Range<Int>, codeFrames: Range<Int>, layout: StreamLayout) {
        precondition(codeFrames.lowerBound <= frames.lowerBound && frames.upperBound <= codeFrames.upperBound)
        self.frames = frames
        self.codeFrames = codeFrames
        self.layout = layout
    }

    /// Interleaved index of the block's first sample: frames.lowerBound · channels.
    public var firstIndex: Int { frames.lowerBound * layout.channels }
    /// Samples the block produces: frames.count · channels.
    public var sampleCount: Int { frames.count * layout.channels }
    /// Samples of codes the block reads: codeFrames.count · channels.
    public var codeCount: Int { codeFrames.count * layout.channels }
    /// Offset, in samples, of the first produced sample within the block's codes.
    public var coreOffset: Int { (frames.lowerBound - codeFrames.lowerBound) * layout.channels }
}

/// The value types a dequantizer writes: float32 and float64. The requirements are block-level
/// entry points: each conformance's witness is the default below specialised for the concrete
/// type (inner loops included), so a loop generic over the value type pays one dynamic call per
/// block, never one per sample.
public protocol DequantizedValue: BinaryFloatingPoint, Sendable {
    /// Uniform dequantization of `bins` (sample indices firstIndex, firstIndex + 1, …) into `out`
    /// (`UniformDequantizer.dequantize`).
    static func dequantize(_ dequantizer: UniformDequantizer, bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Self>)
    /// out[i] = `UniformDequantizer.place`(bins[i], u[i]) for i < out.count: positions u ∈ [0, 1]
    /// placed into their bins with the top guard.
    static func place(bins: UnsafePointer<UInt32>, u: UnsafePointer<Float>, offset: Int, scale: Double,
                      into out: UnsafeMutableBufferPointer<Self>)
    /// Uniform dequantization into `dequantizer`'s cells (`CellDequantizer.dequantize`): nil, or
    /// the index of the first code off its quantizer.
    static func dequantize(_ dequantizer: CellDequantizer, bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                           into out: UnsafeMutableBufferPointer<Self>) -> Int?
    /// Given positions u placed into `dequantizer`'s cells (`CellDequantizer.place`): nil, or the
    /// offset of the first code off its quantizer.
    static func place(_ dequantizer: CellDequantizer, bins: UnsafeBufferPointer<UInt32>, u: UnsafePointer<Float>,
                      into out: UnsafeMutableBufferPointer<Self>) -> Int?
}

extension DequantizedValue {
    public static func dequantize(_ dequantizer: UniformDequantizer, bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                                  into out: UnsafeMutableBufferPointer<Self>) {
        dequantizer.fill(bins: bins, firstIndex: firstIndex, into: out)
    }

    public static func place(bins: UnsafePointer<UInt32>, u: UnsafePointer<Float>, offset: Int, scale: Double,
                             into out: UnsafeMutableBufferPointer<Self>) {
        for i in out.indices {
            out[i] = UniformDequantizer.place(bin: Int(bins[i]), u: Double(u[i]), offset: offset, scale: scale, as: Self.self)
        }
    }
}

extension Float: DequantizedValue {
    public static func dequantize(_ dequantizer: CellDequantizer, bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                                  into out: UnsafeMutableBufferPointer<Float>) -> Int? {
        dequantizer.dequantize(bins: bins, firstIndex: firstIndex, into: out)
    }

    public static func place(_ dequantizer: CellDequantizer, bins: UnsafeBufferPointer<UInt32>, u: UnsafePointer<Float>,
                             into out: UnsafeMutableBufferPointer<Float>) -> Int? {
        dequantizer.place(bins: bins, u: u, into: out)
    }
}

extension Double: DequantizedValue {
    public static func dequantize(_ dequantizer: CellDequantizer, bins: UnsafeBufferPointer<UInt32>, firstIndex: Int,
                                  into out: UnsafeMutableBufferPointer<Double>) -> Int? {
        dequantizer.dequantize(bins: bins, firstIndex: firstIndex, into: out)
    }

    public static func place(_ dequantizer: CellDequantizer, bins: UnsafeBufferPointer<UInt32>, u: UnsafePointer<Float>,
                             into out: UnsafeMutableBufferPointer<Double>) -> Int? {
        dequantizer.place(bins: bins, u: u, into: out)
    }
}

/// A dequantizer that one streaming loop drives: it cuts the stream into blocks and fills each
/// block's values (and, for learned noise, per-sample log q) from its codes.
///
/// The loop: for each block from frame 0 — read the codes of `codeFrames` (keeping the overlap
/// with the previous block's), call `dequantize`, hand the values on. Contract, for every
/// conforming type: the values of a sample depend only on (the dequantizer's key and settings,
/// the stream's codes, the sample's index), never on `preferredFrames`, the thread count or the
/// order blocks are written in; every value decodes to its code.
public protocol Dequantizer {
    /// Whether `dequantize` writes per-sample log q(u | x) (nats). Uniform noise has log q = 0
    /// and writes none.
    var producesLogQ: Bool { get }

    /// The block that starts at frame `start` (0, or where the previous block ended) of a stream
    /// of `layout`; `preferredFrames` (> 0) is the caller's buffer size in frames, a hint that a
    /// dequantizer with its own grid may ignore.
    func block(startingAt start: Int, of layout: StreamLayout, preferredFrames: Int) -> DequantizationBlock

    /// Fills `values` (`block.sampleCount` samples, interleaved) from `codes`
    /// (`block.codeCount` bins, interleaved, frames `block.codeFrames`); also `logQ`
    /// (`block.sampleCount` floats, nats) when `producesLogQ`.
    func dequantize<Value: DequantizedValue>(_ block: DequantizationBlock, codes: UnsafeBufferPointer<UInt32>,
                                             into values: UnsafeMutableBufferPointer<Value>,
                                             logQ: UnsafeMutableBufferPointer<Float>?) throws
}

/// A dequantizer whose values depend on each sample's own code and index only (uniform noise):
/// blocks of `preferredFrames` frames with no context, and no log q.
public protocol PointwiseDequantizer: Dequantizer {}

extension PointwiseDequantizer {
    public var producesLogQ: Bool { false }

    public func block(startingAt start: Int, of layout: StreamLayout, preferredFrames: Int) -> DequantizationBlock {
        let end = min(layout.frames, start + max(1, preferredFrames))
        return DequantizationBlock(frames: start..<end, codeFrames: start..<end, layout: layout)
    }
}

/// Carries a non-Sendable value (pointers, a non-escaping closure) across threads; the user
/// guarantees that the threads touch disjoint memory.
public struct UncheckedBox<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// Runs `body(lo, hi)` over `threads` contiguous slices of 0..<n (serially for one thread or
/// fewer than 2 × 16,384 items). Slices never overlap, so results do not depend on the thread count.
func forSlices(_ n: Int, threads: Int, _ body: (Int, Int) -> Void) {
    let parts = min(threads, max(1, n / 16384))
    if parts <= 1 { body(0, n); return }
    withoutActuallyEscaping(body) { body in
        let box = UncheckedBox(body)
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            box.value(n * p / parts, n * (p + 1) / parts)
        }
    }
}
