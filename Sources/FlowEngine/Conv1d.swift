/// 1-D convolution over (batch, channels, time) with kernel `k`, dilation `d`, "same" zero padding
/// (pad d(k-1)/2 on each side, k odd), bias, and an optional fused ReLU:
///
///     y[b, o, t] = act( bias[o] + sum_{c, j} W[o, c, j] * x[b, c, t + (j - (k-1)/2) d] )
///
/// with x = 0 outside [0, T). A 1x1 convolution is the case k = 1.
///
/// Implementation: im2col builds col (C_in k, B T) with row c k + j and column b T + t, then one
/// OpenBLAS sgemm Y (C_out, B T) = W (C_out, C_in k) x col, scattered into (B, C_out, T) while the
/// bias (and ReLU) are applied. Backward gathers dY back to (C_out, B T) (summing the bias
/// gradient), then dW += dY col^T and dcol = W^T dY, and col2im adds dcol into dx.
///
/// Weight layout (C_out, C_in, k) row-major, as PyTorch's `Conv1d.weight`. Default init as
/// PyTorch: W, bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in k.
///
/// Workspaces (col, GEMM output, dcol) are sized on the first call for a (batch, time) and reused
/// while it repeats. `backward` uses the col buffer of the latest `forward`.
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

    private let col = Workspace()
    private let gemmOut = Workspace()
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
    public func forward(
        x: UnsafePointer<Float>, xBatchStride: Int, batch: Int, time: Int, y: UnsafeMutablePointer<Float>
    ) {
        let n = batch * time
        let ck = inChannels * kernelSize
        col.resize(ck * n)
        gemmOut.resize(outChannels * n)
        Self.im2col(
            x: x, xBatchStride: xBatchStride, batch: batch, channels: inChannels, time: time,
            kernel: kernelSize, dilation: dilation, col: col.pointer)
        weight.value.withUnsafeBufferPointer { w in
            BLAS.gemm(
                m: outChannels, n: n, k: ck, a: w.baseAddress!, lda: ck, b: col.pointer, ldb: n,
                beta: 0, c: gemmOut.pointer, ldc: n)
        }
        let src = gemmOut.pointer
        let relu = activation == .relu
        bias.value.withUnsafeBufferPointer { bp in
            for b in 0..<batch {
                for o in 0..<outChannels {
                    let s = src + o * n + b * time
                    let d = y + (b * outChannels + o) * time
                    let bo = bp[o]
                    if relu {
                        for t in 0..<time { d[t] = max(s[t] + bo, 0) }
                    } else {
                        for t in 0..<time { d[t] = s[t] + bo }
                    }
                }
            }
        }
        forwardKey = (batch, time)
    }

    /// Backward pass for the latest `forward` (same batch and time). `y` is that forward's output
    /// (used for the ReLU mask), `dy` the gradient w.r.t. `y`, both (batch, outChannels, time).
    /// Accumulates dW and dbias into the parameters' `grad`. If `dx` is given, the gradient w.r.t.
    /// x is added to it (`accumulate`) or written over it, with item b at `dx + b * dxBatchStride`.
    public func backward(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int, time: Int,
        dx: UnsafeMutablePointer<Float>?, dxBatchStride: Int, accumulate: Bool
    ) throws {
        guard let key = forwardKey, key.batch == batch, key.time == time else {
            throw FlowEngineError.backwardWithoutForward(weight.name)
        }
        let n = batch * time
        let ck = inChannels * kernelSize
        // Gather dY (after the ReLU mask) into (C_out, B T), reusing the forward GEMM buffer.
        let g = gemmOut.pointer
        let relu = activation == .relu
        bias.grad.withUnsafeMutableBufferPointer { db in
            for o in 0..<outChannels {
                var sum: Double = 0
                for b in 0..<batch {
                    let s = dy + (b * outChannels + o) * time
                    let d = g + o * n + b * time
                    var part: Float = 0
                    if relu {
                        let yy = y + (b * outChannels + o) * time
                        for t in 0..<time {
                            let v = yy[t] > 0 ? s[t] : 0
                            d[t] = v
                            part += v
                        }
                    } else {
                        for t in 0..<time {
                            d[t] = s[t]
                            part += s[t]
                        }
                    }
                    sum += Double(part)
                }
                db[o] += Float(sum)
            }
        }
        weight.grad.withUnsafeMutableBufferPointer { dw in
            BLAS.gemm(
                transB: true, m: outChannels, n: ck, k: n, a: g, lda: n, b: col.pointer, ldb: n,
                beta: 1, c: dw.baseAddress!, ldc: ck)
        }
        guard let dx else { return }
        // dcol overwrites col: col is not needed after dW.
        weight.value.withUnsafeBufferPointer { w in
            BLAS.gemm(
                transA: true, m: ck, n: n, k: outChannels, a: w.baseAddress!, lda: ck, b: g, ldb: n,
                beta: 0, c: col.pointer, ldc: n)
        }
        if !accumulate {
            for b in 0..<batch { (dx + b * dxBatchStride).update(repeating: 0, count: inChannels * time) }
        }
        Self.col2imAdd(
            dcol: col.pointer, dx: dx, dxBatchStride: dxBatchStride, batch: batch, channels: inChannels,
            time: time, kernel: kernelSize, dilation: dilation)
        forwardKey = nil  // col now holds dcol
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
                    let d = dst + shift
                    for t in lo..<hi { d[t] += src[t] }
                }
            }
        }
    }
}
