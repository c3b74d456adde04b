import Foundation

/// 1-D convolution over (batch, channels, time) with kernel `k`, dilation `d`, "same" zero padding
/// (pad d(k-1)/2 on each side, k odd), bias, and an optional fused ReLU:
///
///     y[b, o, t] = act( bias[o] + sum_{c, j} W[o, c, j] * x[b, c, t + (j - (k-1)/2) d] )
///
/// with x = 0 outside [0, T). A 1x1 convolution is the case k = 1.
///
/// Implementation, one batch item and one time tile at a time so every block stays in the L2
/// cache: im2col builds the tile col (C_in k, w) with row c k + j (w <= T columns, about 128K floats
/// per tile), then one OpenBLAS sgemm y_b[:, tile] += W (C_out, C_in k) x col writes straight into
/// the (B, C_out, T) output, pre-filled with the bias. Backward rebuilds col from x (cheaper than
/// keeping B C_in k T floats) and forms dW += dY_tile col^T. The input gradient takes whichever
/// route moves less data: (C_out > C_in) dcol = W^T dY_tile then col2im into dx_b; or
/// (C_out <= C_in) a "same" convolution of dY_b with the flipped, transposed kernel
/// Wt[c, o, j] = W[o, c, k-1-j]: dx_b[:, tile] = Wt im2col(dY_b), written by sgemm directly.
/// For k = 1 the input is its own column matrix (no copy). Cost per call: 2 C_out C_in k B T
/// flops forward, twice that backward.
///
/// Weight layout (C_out, C_in, k) row-major, as PyTorch's `Conv1d.weight`. Default init as
/// PyTorch: W, bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in k.
///
/// `workers` > 1 splits the batch items over that many threads (each with its own scratch and
/// gradient partials, summed at the end); keep OpenBLAS at 1 thread then. Workspaces are sized
/// on the first call for a (time, workers) and reused while they repeat; no activation is kept:
/// the caller passes x and y back to `backward`.
///
/// With `.relu`, a forward call inside `KinkMonitor.record` also hands its pre-activations
/// (batch, C_out, time) to the monitor (gradient checks); otherwise that costs one task-local read.
public final class Conv1d {
    public enum Activation: Sendable { case identity, relu }
    public enum Initialization: Sendable {
        /// PyTorch default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
        case torchDefault(seed: UInt64)
        /// All zeros (last layer of a coupling conditioner: the coupling starts as the identity).
        case zeros
    }

    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let dilation: Int
    public let activation: Activation
    /// The name given at init (prefix of the parameters' names).
    let name: String
    /// Shape (C_out, C_in, k).
    public let weight: Parameter
    /// Shape (C_out).
    public let bias: Parameter
    /// Threads over batch items (>= 1).
    public var workers = 1
    /// Forces the time-tile width (tests exercise several tiles on short inputs with it).
    var tileWidthOverride: Int? = nil

    /// Per worker: im2col tile of x, im2col tile of dY or dcol, masked dY tile, partial dW and
    /// dbias (offsets in `Layout`).
    private var scratch: [Workspace] = []
    private var scratchPointers: [UnsafeMutablePointer<Float>] = []
    private let flippedWeight = Workspace()
    private var forwardKey: (batch: Int, time: Int)? = nil

    /// True when dx is computed as a convolution of dY with the flipped kernel.
    private var transposedInputGradient: Bool { kernelSize > 1 && outChannels <= inChannels }

    public init(
        name: String, inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int = 1,
        activation: Activation = .identity, initialization: Initialization
    ) throws {
        guard inChannels > 0, outChannels > 0, kernelSize > 0, kernelSize % 2 == 1, dilation > 0 else {
            throw FlowEngineError.invalidConfiguration(
                "\(name): conv1d needs positive channels, odd kernel, positive dilation "
                    + "(in \(inChannels), out \(outChannels), k \(kernelSize), d \(dilation))")
        }
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.activation = activation
        self.name = name
        weight = Parameter(name: name + ".weight", shape: [outChannels, inChannels, kernelSize])
        bias = Parameter(name: name + ".bias", shape: [outChannels])
        if case .torchDefault(let seed) = initialization {
            var rng = SplitMix64(seed: seed)
            let bound = Float(1.0 / Double(inChannels * kernelSize).squareRoot())
            rng.fillUniform(&weight.value, lower: -bound, upper: bound)
            rng.fillUniform(&bias.value, lower: -bound, upper: bound)
        }
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// Floats of one im2col tile: time is cut into tiles of about this many / (C_in k) columns
    /// so a tile's column matrix stays in the per-core L2 cache.
    static let tileBudget = 131072

    /// Scratch layout of one worker (offsets in floats) and the time-tile width.
    private struct Layout {
        let width: Int, col: Int, col2: Int, dy: Int, dw: Int, db: Int, total: Int
        init(_ c: Conv1d, time: Int) {
            let ck = c.inChannels * c.kernelSize
            let auto = max(64, (Conv1d.tileBudget / max(ck, c.outChannels * c.kernelSize)) & ~15)
            width = max(1, min(time, c.tileWidthOverride ?? auto))
            let col2Rows = c.transposedInputGradient ? c.outChannels * c.kernelSize : ck
            col = 0
            col2 = ck * width
            dy = col2 + col2Rows * width
            dw = dy + c.outChannels * width
            db = dw + c.outChannels * ck
            total = db + c.outChannels
        }
    }

    private func prepareScratch(time: Int, workers w: Int) -> Layout {
        let layout = Layout(self, time: time)
        while scratch.count < w { scratch.append(Workspace()) }
        for i in 0..<w { scratch[i].resize(layout.total) }
        // Rebuilt only when a buffer moved or the worker count changed: no allocation per call.
        if scratchPointers.count != w || zip(scratchPointers, scratch).contains(where: { $0 != $1.pointer }) {
            scratchPointers = scratch.prefix(w).map { $0.pointer }
        }
        return layout
    }

    /// Raw view of everything one call needs, shareable with worker threads (each worker touches
    /// only its own items of x, y, dy, dx and its own scratch).
    private struct Args: @unchecked Sendable {
        var x: UnsafePointer<Float>, xStride: Int
        var y: UnsafeMutablePointer<Float>
        var dy: UnsafePointer<Float>
        var dx: UnsafeMutablePointer<Float>?, dxStride: Int, accumulate: Bool
        var w: UnsafePointer<Float>, wt: UnsafePointer<Float>, bias: UnsafePointer<Float>
        var scratch: [UnsafeMutablePointer<Float>]
        var batch: Int, time: Int, workers: Int
        var cin: Int, cout: Int, k: Int, d: Int, relu: Bool, transposed: Bool
        var layout: Layout
        /// (batch, C_out, time) copy of the pre-activations for a `KinkMonitor`, when one records.
        var preActivations: UnsafeMutablePointer<Float>? = nil

        func items(_ worker: Int) -> Range<Int> {
            (worker * batch / workers)..<((worker + 1) * batch / workers)
        }
    }

    private func makeArgs(
        x: UnsafePointer<Float>, xStride: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>?,
        dx: UnsafeMutablePointer<Float>?, dxStride: Int, accumulate: Bool, batch: Int, time: Int,
        w: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) -> Args {
        let nw = max(1, min(workers, batch))
        let layout = prepareScratch(time: time, workers: nw)
        return Args(
            x: x, xStride: xStride, y: UnsafeMutablePointer(mutating: y), dy: dy ?? y, dx: dx, dxStride: dxStride,
            accumulate: accumulate, w: w, wt: UnsafePointer(flippedWeight.pointer), bias: bias,
            scratch: scratchPointers, batch: batch, time: time, workers: nw,
            cin: inChannels, cout: outChannels, k: kernelSize, d: dilation, relu: activation == .relu,
            transposed: transposedInputGradient, layout: layout)
    }

    /// Forward pass. `x` holds `inChannels` channels of length `time` per batch item, item b
    /// starting at `x + b * xBatchStride` (so a channel slice of a wider tensor can be read in
    /// place). `y` is a contiguous (batch, outChannels, time) buffer, written.
    public func forward(
        x: UnsafePointer<Float>, xBatchStride: Int, batch: Int, time: Int, y: UnsafeMutablePointer<Float>
    ) {
        let monitor = activation == .relu ? KinkMonitor.current : nil
        let pre = monitor.map { _ in UnsafeMutablePointer<Float>.allocate(capacity: batch * outChannels * time) }
        defer { pre?.deallocate() }
        weight.value.withUnsafeBufferPointer { w in
            bias.value.withUnsafeBufferPointer { bp in
                var a = makeArgs(x: x, xStride: xBatchStride, y: y, dy: nil, dx: nil, dxStride: 0, accumulate: false,
                                 batch: batch, time: time, w: w.baseAddress!, bias: bp.baseAddress!)
                a.preActivations = pre
                let args = a
                Parallel.run(args.workers) { Self.forwardItems(args, worker: $0) }
            }
        }
        if let monitor, let pre { monitor.append(layer: name, pre, batch: batch, channels: outChannels, time: time) }
        forwardKey = (batch, time)
    }

    private static func forwardItems(_ a: Args, worker: Int) {
        let ck = a.cin * a.k, T = a.time, W = a.layout.width
        let col = a.scratch[worker] + a.layout.col
        for b in a.items(worker) {
            let xb = a.x + b * a.xStride
            let yb = a.y + b * a.cout * T
            var t0 = 0
            while t0 < T {
                let w = min(W, T - t0)
                for o in 0..<a.cout { Kernels.fill(yb + o * T + t0, a.bias[o], w) }
                if a.k == 1 {
                    BLAS.gemm(m: a.cout, n: w, k: ck, a: a.w, lda: ck, b: xb + t0, ldb: T, beta: 1, c: yb + t0, ldc: T)
                } else {
                    im2col(x: xb, channels: a.cin, time: T, t0: t0, width: w, stride: w, kernel: a.k, dilation: a.d, col: col)
                    BLAS.gemm(m: a.cout, n: w, k: ck, a: a.w, lda: ck, b: col, ldb: w, beta: 1, c: yb + t0, ldc: T)
                }
                if let pre = a.preActivations {
                    for o in 0..<a.cout { (pre + (b * a.cout + o) * T + t0).update(from: yb + o * T + t0, count: w) }
                }
                if a.relu { for o in 0..<a.cout { Kernels.reluInPlace(yb + o * T + t0, w) } }
                t0 += w
            }
        }
    }

    /// Backward pass for the latest `forward` (same batch and time), given that forward's input
    /// `x` (same stride as then), output `y` (for the ReLU mask) and dL/dy, (batch, outChannels,
    /// time). Accumulates dW and dbias into the parameters' `grad`. If `dx` is given, dL/dx is
    /// added to it (`accumulate`) or written over it, item b at `dx + b * dxBatchStride`.
    public func backward(
        x: UnsafePointer<Float>, xBatchStride: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        batch: Int, time: Int, dx: UnsafeMutablePointer<Float>?, dxBatchStride: Int, accumulate: Bool
    ) throws {
        guard let key = forwardKey, key.batch == batch, key.time == time else {
            throw FlowEngineError.backwardWithoutForward(weight.name)
        }
        let ck = inChannels * kernelSize
        if transposedInputGradient && dx != nil {
            // Wt[c, o, j] = W[o, c, k-1-j], row-major (C_in, C_out k).
            flippedWeight.resize(weight.count)
            let k = kernelSize
            weight.value.withUnsafeBufferPointer { w in
                for o in 0..<outChannels { for c in 0..<inChannels { for j in 0..<k {
                    flippedWeight.pointer[(c * outChannels + o) * k + (k - 1 - j)] = w[(o * inChannels + c) * k + j]
                } } }
            }
        }
        // Parameter values are only read by the workers; partial gradients go to their scratch.
        let a = weight.value.withUnsafeBufferPointer { w in
            bias.value.withUnsafeBufferPointer { bp in
                let a = makeArgs(x: x, xStride: xBatchStride, y: y, dy: dy, dx: dx, dxStride: dxBatchStride,
                                 accumulate: accumulate, batch: batch, time: time, w: w.baseAddress!, bias: bp.baseAddress!)
                Parallel.run(a.workers) { Self.backwardItems(a, worker: $0) }
                return a
            }
        }
        weight.grad.withUnsafeMutableBufferPointer { dw in
            bias.grad.withUnsafeMutableBufferPointer { db in
                for s in a.scratch {
                    Kernels.addInPlace(dw.baseAddress!, s + a.layout.dw, outChannels * ck)
                    Kernels.addInPlace(db.baseAddress!, s + a.layout.db, outChannels)
                }
            }
        }
    }

    private static func backwardItems(_ a: Args, worker: Int) {
        let ck = a.cin * a.k, T = a.time, W = a.layout.width
        let base = a.scratch[worker]
        let col = base + a.layout.col, col2 = base + a.layout.col2, dyMasked = base + a.layout.dy
        let dw = base + a.layout.dw, db = base + a.layout.db
        dw.update(repeating: 0, count: a.cout * ck)
        db.update(repeating: 0, count: a.cout)
        for b in a.items(worker) {
            let dyb = a.dy + b * a.cout * T
            let xb = a.x + b * a.xStride
            let dxb = a.dx.map { $0 + b * a.dxStride }
            if let dxb, !a.accumulate, !(a.k == 1 || a.transposed) { dxb.update(repeating: 0, count: a.cin * T) }
            var t0 = 0
            while t0 < T {
                let w = min(W, T - t0)
                // Upstream gradient tile g (C_out, w), row stride ldg.
                let g: UnsafePointer<Float>, ldg: Int
                if a.relu {
                    let yb = a.y + b * a.cout * T
                    for o in 0..<a.cout {
                        db[o] += Kernels.reluMaskSum(dy: dyb + o * T + t0, y: yb + o * T + t0, dst: dyMasked + o * w, w)
                    }
                    g = UnsafePointer(dyMasked)
                    ldg = w
                } else {
                    for o in 0..<a.cout { db[o] += Kernels.sum(dyb + o * T + t0, w) }
                    g = dyb + t0
                    ldg = T
                }
                // dW += g x_tile^T
                if a.k == 1 {
                    BLAS.gemm(transB: true, m: a.cout, n: ck, k: w, a: g, lda: ldg, b: xb + t0, ldb: T, beta: 1, c: dw, ldc: ck)
                } else {
                    im2col(x: xb, channels: a.cin, time: T, t0: t0, width: w, stride: w, kernel: a.k, dilation: a.d, col: col)
                    BLAS.gemm(transB: true, m: a.cout, n: ck, k: w, a: g, lda: ldg, b: col, ldb: w, beta: 1, c: dw, ldc: ck)
                }
                if let dxb {
                    if a.k == 1 {
                        BLAS.gemm(transA: true, m: ck, n: w, k: a.cout, a: a.w, lda: ck, b: g, ldb: ldg,
                                  beta: a.accumulate ? 1 : 0, c: dxb + t0, ldc: T)
                    } else if a.transposed {
                        // dx tile = Wt im2col(dY) over the tile; dY rows read from the full item.
                        if a.relu {
                            // im2col of the masked dY needs neighbours outside the tile: mask them on the fly.
                            im2colMasked(dy: dyb, y: a.y + b * a.cout * T, channels: a.cout, time: T, t0: t0, width: w,
                                         kernel: a.k, dilation: a.d, col: col2)
                        } else {
                            im2col(x: dyb, channels: a.cout, time: T, t0: t0, width: w, stride: w, kernel: a.k,
                                   dilation: a.d, col: col2)
                        }
                        BLAS.gemm(m: a.cin, n: w, k: a.cout * a.k, a: a.wt, lda: a.cout * a.k, b: col2, ldb: w,
                                  beta: a.accumulate ? 1 : 0, c: dxb + t0, ldc: T)
                    } else {
                        BLAS.gemm(transA: true, m: ck, n: w, k: a.cout, a: a.w, lda: ck, b: g, ldb: ldg, beta: 0, c: col2, ldc: w)
                        col2imAdd(dcol: col2, dx: dxb, channels: a.cin, time: T, t0: t0, width: w, kernel: a.k, dilation: a.d)
                    }
                }
                t0 += w
            }
        }
    }

    /// Tile of the column matrix: col[(c k + j), t - t0] = x[c, t + (j - (k-1)/2) d] for t in
    /// [t0, t0 + width), zero where t + shift falls outside [0, T); rows `stride` apart. x is one
    /// item (C, T).
    static func im2col(
        x: UnsafePointer<Float>, channels: Int, time: Int, t0: Int, width: Int, stride: Int,
        kernel: Int, dilation: Int, col: UnsafeMutablePointer<Float>
    ) {
        let center = (kernel - 1) / 2
        let t1 = t0 + width
        for c in 0..<channels {
            let src = x + c * time
            for j in 0..<kernel {
                let shift = (j - center) * dilation
                let dst = col + (c * kernel + j) * stride - t0   // dst[t] for t in [t0, t1)
                let lo = min(max(t0, -shift), t1)
                let hi = max(min(t1, time - shift), lo)
                if lo > t0 { (dst + t0).update(repeating: 0, count: lo - t0) }
                if hi > lo { (dst + lo).update(from: src + lo + shift, count: hi - lo) }
                if hi < t1 { (dst + hi).update(repeating: 0, count: t1 - hi) }
            }
        }
    }

    /// `im2col` of the ReLU-masked gradient (dy where y > 0, else 0), without materialising it.
    static func im2colMasked(
        dy: UnsafePointer<Float>, y: UnsafePointer<Float>, channels: Int, time: Int, t0: Int, width: Int,
        kernel: Int, dilation: Int, col: UnsafeMutablePointer<Float>
    ) {
        let center = (kernel - 1) / 2
        let t1 = t0 + width
        for c in 0..<channels {
            for j in 0..<kernel {
                let shift = (j - center) * dilation
                let dst = col + (c * kernel + j) * width - t0
                let lo = min(max(t0, -shift), t1)
                let hi = max(min(t1, time - shift), lo)
                if lo > t0 { (dst + t0).update(repeating: 0, count: lo - t0) }
                if hi > lo {
                    _ = Kernels.reluMaskSum(dy: dy + c * time + lo + shift, y: y + c * time + lo + shift, dst: dst + lo, hi - lo)
                }
                if hi < t1 { (dst + hi).update(repeating: 0, count: t1 - hi) }
            }
        }
    }

    /// Adjoint of the tile `im2col`: dx[c, t + shift_j] += dcol[(c k + j), t - t0] (valid t only).
    /// It walks the same (c, j) rows and valid range [lo, hi) as `im2col` because it is that map
    /// transposed (a gather there, a scatter-add here); the zero padding has no adjoint term.
    static func col2imAdd(
        dcol: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, channels: Int, time: Int, t0: Int, width: Int,
        kernel: Int, dilation: Int
    ) {
        let center = (kernel - 1) / 2
        let t1 = t0 + width
        for c in 0..<channels {
            let dst = dx + c * time
            for j in 0..<kernel {
                let shift = (j - center) * dilation
                let src = dcol + (c * kernel + j) * width - t0
                let lo = min(max(t0, -shift), t1)
                let hi = max(min(t1, time - shift), lo)
                if hi > lo { Kernels.addInPlace(dst + lo + shift, src + lo, hi - lo) }
            }
        }
    }
}
