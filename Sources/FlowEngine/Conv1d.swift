/// 1-D convolution over (batch, channels, time) with kernel `k`, dilation `d`, "same" zero padding
/// (pad d(k-1)/2 on each side, k odd), bias, and an optional fused ReLU:
///
///     y[b, o, t] = act( bias[o] + sum_{c, j} W[o, c, j] * x[b, c, t + (j - (k-1)/2) d] )
///
/// with x = 0 outside [0, T). A 1x1 convolution is the case k = 1.
///
/// Implementation, one batch item at a time so every block stays in cache: im2col builds
/// col_b (C_in k, T) with row c k + j, then one OpenBLAS sgemm y_b (C_out, T) = W (C_out, C_in k)
/// x col_b writes straight into the (B, C_out, T) output. Backward rebuilds col_b from x (cheaper
/// than keeping B C_in k T floats), dW += dY_b col_b^T, dcol_b = W^T dY_b, col2im adds dcol_b
/// into dx. For k = 1 the input itself is the column matrix (no copy).
///
/// Weight layout (C_out, C_in, k) row-major, as PyTorch's `Conv1d.weight`. Default init as
/// PyTorch: W, bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in k.
///
/// Workspaces (one item's col and masked dY) are sized on the first call for a time length and
/// reused while it repeats; nothing of the activations is kept: the caller passes x and y back.
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
    /// Shape (C_out, C_in, k).
    public let weight: Parameter
    /// Shape (C_out).
    public let bias: Parameter

    /// Per-item scratch: im2col block (C_in k, T), masked dY block (C_out, T).
    private let col = Workspace()
    private let dyMasked = Workspace()
    private var forwardKey: (batch: Int, time: Int)? = nil

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

    /// Forward pass. `x` holds `inChannels` channels of length `time` per batch item, item b
    /// starting at `x + b * xBatchStride` (so a channel slice of a wider tensor can be read in
    /// place). `y` is a contiguous (batch, outChannels, time) buffer.
    ///
    /// Per item b: col_b = im2col(x_b) (C_in k, T), y_b = bias + W col_b (one sgemm, beta 1 on
    /// the bias-filled output), then the ReLU in place. Each item's blocks stay in L2 cache.
    public func forward(
        x: UnsafePointer<Float>, xBatchStride: Int, batch: Int, time: Int, y: UnsafeMutablePointer<Float>
    ) {
        let ck = inChannels * kernelSize
        let direct = kernelSize == 1
        if !direct { col.resize(ck * time) }
        weight.value.withUnsafeBufferPointer { w in
            bias.value.withUnsafeBufferPointer { bp in
                for b in 0..<batch {
                    let xb = x + b * xBatchStride
                    let yb = y + b * outChannels * time
                    for o in 0..<outChannels { Kernels.fill(yb + o * time, bp[o], time) }
                    let src: UnsafePointer<Float>
                    if direct {
                        src = xb
                    } else {
                        Self.im2col(x: xb, xBatchStride: 0, batch: 1, channels: inChannels, time: time,
                                    kernel: kernelSize, dilation: dilation, col: col.pointer)
                        src = UnsafePointer(col.pointer)
                    }
                    BLAS.gemm(m: outChannels, n: time, k: ck, a: w.baseAddress!, lda: ck, b: src, ldb: time,
                              beta: 1, c: yb, ldc: time)
                    if activation == .relu { Kernels.reluInPlace(yb, outChannels * time) }
                }
            }
        }
        forwardKey = (batch, time)
    }

    /// Backward pass for the latest `forward` (same batch and time), given that forward's input
    /// `x` (same strides as then), output `y` (for the ReLU mask) and dL/dy, (batch, outChannels,
    /// time). Accumulates dW and dbias into the parameters' `grad`. If `dx` is given, dL/dx is
    /// added to it (`accumulate`) or written over it, item b at `dx + b * dxBatchStride`.
    ///
    /// Per item b: dY_b masked by y_b > 0 (and summed for dbias), col_b = im2col(x_b) again,
    /// dW += dY_b col_b^T, dcol_b = W^T dY_b, dx_b += col2im(dcol_b).
    public func backward(
        x: UnsafePointer<Float>, xBatchStride: Int, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        batch: Int, time: Int, dx: UnsafeMutablePointer<Float>?, dxBatchStride: Int, accumulate: Bool
    ) throws {
        guard let key = forwardKey, key.batch == batch, key.time == time else {
            throw FlowEngineError.backwardWithoutForward(weight.name)
        }
        let ck = inChannels * kernelSize
        let direct = kernelSize == 1
        col.resize(ck * time)
        let relu = activation == .relu
        if relu { dyMasked.resize(outChannels * time) }
        weight.value.withUnsafeBufferPointer { w in
            weight.grad.withUnsafeMutableBufferPointer { dw in
                bias.grad.withUnsafeMutableBufferPointer { db in
                    for b in 0..<batch {
                        let dyb = dy + b * outChannels * time
                        let g: UnsafePointer<Float>
                        if relu {
                            let yb = y + b * outChannels * time
                            for o in 0..<outChannels {
                                db[o] += Kernels.reluMaskSum(dy: dyb + o * time, y: yb + o * time,
                                                             dst: dyMasked.pointer + o * time, time)
                            }
                            g = UnsafePointer(dyMasked.pointer)
                        } else {
                            for o in 0..<outChannels { db[o] += Kernels.sum(dyb + o * time, time) }
                            g = dyb
                        }
                        let xb = x + b * xBatchStride
                        let src: UnsafePointer<Float>
                        if direct {
                            src = xb
                        } else {
                            Self.im2col(x: xb, xBatchStride: 0, batch: 1, channels: inChannels, time: time,
                                        kernel: kernelSize, dilation: dilation, col: col.pointer)
                            src = UnsafePointer(col.pointer)
                        }
                        BLAS.gemm(transB: true, m: outChannels, n: ck, k: time, a: g, lda: time, b: src, ldb: time,
                                  beta: 1, c: dw.baseAddress!, ldc: ck)
                        guard let dx else { continue }
                        let dxb = dx + b * dxBatchStride
                        if direct {
                            BLAS.gemm(transA: true, m: ck, n: time, k: outChannels, a: w.baseAddress!, lda: ck,
                                      b: g, ldb: time, beta: accumulate ? 1 : 0, c: dxb, ldc: time)
                        } else {
                            BLAS.gemm(transA: true, m: ck, n: time, k: outChannels, a: w.baseAddress!, lda: ck,
                                      b: g, ldb: time, beta: 0, c: col.pointer, ldc: time)
                            if !accumulate { dxb.update(repeating: 0, count: inChannels * time) }
                            Self.col2imAdd(dcol: col.pointer, dx: dxb, dxBatchStride: 0, batch: 1, channels: inChannels,
                                           time: time, kernel: kernelSize, dilation: dilation)
                        }
                    }
                }
            }
        }
    }

    /// col[(c k + j), b T + t] = x[b, c, t + (j - (k-1)/2) d], zero outside [0, T).
    static func im2col(
        x: UnsafePointer<Float>, xBatchStride: Int, batch: Int, channels: Int, time: Int,
        kernel: Int, dilation: Int, col: UnsafeMutablePointer<Float>
    ) {
        let n = batch * time
        let center = (kernel - 1) / 2
        for c in 0..<channels {
            for j in 0..<kernel {
                let shift = (j - center) * dilation
                let row = col + (c * kernel + j) * n
                let lo = min(max(0, -shift), time)
                let hi = max(min(time, time - shift), lo)
                for b in 0..<batch {
                    let dst = row + b * time
                    let src = x + b * xBatchStride + c * time
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if hi > lo { (dst + lo).update(from: src + lo + shift, count: hi - lo) }
                    if hi < time { (dst + hi).update(repeating: 0, count: time - hi) }
                }
            }
        }
    }

    /// Adjoint of `im2col`: dx[b, c, t + (j - (k-1)/2) d] += dcol[(c k + j), b T + t].
    static func col2imAdd(
        dcol: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dxBatchStride: Int, batch: Int,
        channels: Int, time: Int, kernel: Int, dilation: Int
    ) {
        let n = batch * time
        let center = (kernel - 1) / 2
        for c in 0..<channels {
            for b in 0..<batch {
                let dst = dx + b * dxBatchStride + c * time
                for j in 0..<kernel {
                    let shift = (j - center) * dilation
                    let src = dcol + (c * kernel + j) * n + b * time
                    let lo = min(max(0, -shift), time)
                    let hi = max(min(time, time - shift), lo)
                    if hi <= lo { continue }
                    Kernels.addInPlace(dst + lo + shift, src + lo, hi - lo)
                }
            }
        }
    }
}
