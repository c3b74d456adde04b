@testable import FlowEngine
import Foundation
import Testing

/// Forward/backward of the elementwise, layout and convolution ops.
@Suite struct OpsTests {
    typealias Op = @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    typealias Back = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int) -> Void

    static func apply(_ f: Op, _ x: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { f(xp.baseAddress!, $0.baseAddress!, x.count) } }
        return y
    }

    /// Each elementwise op with its backward and the scale of its test inputs.
    static let pointwiseOps: [(name: String, f: Op, back: Back, scale: Float)] = [
        ("relu", { Pointwise.relu($0, $1, count: $2) }, { _, y, dy, dx, n in Pointwise.reluBackward(y: y, dy: dy, dx: dx, count: n) }, 1),
        ("tanh", { Pointwise.tanh($0, $1, count: $2) }, { _, y, dy, dx, n in Pointwise.tanhBackward(y: y, dy: dy, dx: dx, count: n) }, 1),
        ("exp", { Pointwise.exp($0, $1, count: $2) }, { _, y, dy, dx, n in Pointwise.expBackward(y: y, dy: dy, dx: dx, count: n) }, 1),
        ("sigmoid", { Pointwise.sigmoid($0, $1, count: $2) }, { _, y, dy, dx, n in Pointwise.sigmoidBackward(y: y, dy: dy, dx: dx, count: n) }, 1),
        ("logSigmoidDerivative", { Pointwise.logSigmoidDerivative($0, $1, count: $2) },
         { x, _, dy, dx, n in Pointwise.logSigmoidDerivativeBackward(x: x, dy: dy, dx: dx, count: n) }, 3),
    ]

    /// Gradient check of one elementwise op at x for L = w · f(x), w from `weightSeed`.
    static func pointwiseResult(_ name: String, _ f: @escaping Op, _ back: Back, x: [Float], weightSeed: UInt64 = 5,
                                checkSeed: UInt64 = 99) -> GradientCheck.Result {
        let w = randomArray(x.count, seed: weightSeed)
        let y = apply(f, x)
        var dx = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in
                w.withUnsafeBufferPointer { wp in
                    dx.withUnsafeMutableBufferPointer { back(xp.baseAddress!, yp.baseAddress!, wp.baseAddress!, $0.baseAddress!, x.count) }
                }
            }
        }
        let box = Box(x)
        return GradientCheck(step: 1e-3, rtol: 1e-2, atol: 1e-3, seed: checkSeed).run([GradientCheck.probe(name, box, analytic: dx)]) {
            dot(w, apply(f, box.values))
        }
    }

    @Test func pointwiseGradients() {
        let x = randomArray(24, seed: 1)
        for op in Self.pointwiseOps {
            let r = Self.pointwiseResult(op.name, op.f, op.back, x: x.map { op.scale * $0 })
            r.expectClean(maxSkippedShare: 0)
            #expect(r.checked == 16)
        }
    }

    @Test func logSigmoidDerivativeIsStableAndExact() {
        let x: [Float] = [-200, -30, -1, 0, 0.5, 30, 200]
        let y = Self.apply({ Pointwise.logSigmoidDerivative($0, $1, count: $2) }, x)
        for (xi, yi) in zip(x, y) {
            #expect(yi.isFinite)
            let s = 1 / (1 + Foundation.exp(-Double(xi)))
            if abs(xi) < 20 { #expect(abs(Double(yi) - Foundation.log(s * (1 - s))) < 1e-5) }
        }
        #expect(abs(y[3] - Float(-2 * Foundation.log(2.0))) < 1e-6)
    }

    @Test func biasForwardBackward() {
        let shape = Shape(batch: 2, channels: 3, time: 5)
        let x = randomArray(shape.count, seed: 2)
        let bias = Box([0.5, -1, 2])
        let w = randomArray(shape.count, seed: 3)
        func f() -> [Float] {
            var y = [Float](repeating: 0, count: shape.count)
            x.withUnsafeBufferPointer { xp in bias.values.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { Pointwise.addBias(xp.baseAddress!, bias: bp.baseAddress!, $0.baseAddress!, shape: shape) } } }
            return y
        }
        var db: [Float] = [0, 0, 0]
        w.withUnsafeBufferPointer { wp in db.withUnsafeMutableBufferPointer { Pointwise.addBiasBackward(dy: wp.baseAddress!, dBias: $0.baseAddress!, shape: shape) } }
        let r = GradientCheck().run([GradientCheck.probe("bias", bias, analytic: db)]) { dot(w, f()) }
        r.expectClean()
    }

    @Test func squeezeLayoutAndInverse() {
        let T = 32, G = 8
        let v = (0..<(2 * T)).map { Float($0) }
        var z = [Float](repeating: 0, count: v.count), back = z
        let s = Shape(batch: 2, channels: 1, time: T)
        v.withUnsafeBufferPointer { vp in z.withUnsafeMutableBufferPointer { Rearrange.squeeze(vp.baseAddress!, $0.baseAddress!, shape: s, factor: G) } }
        // z[b, c, t] = v[b, G t + c]
        for b in 0..<2 { for c in 0..<G { for t in 0..<(T / G) { #expect(z[(b * G + c) * (T / G) + t] == v[b * T + G * t + c]) } } }
        z.withUnsafeBufferPointer { zp in back.withUnsafeMutableBufferPointer { Rearrange.unsqueeze(zp.baseAddress!, $0.baseAddress!, shape: s, factor: G) } }
        #expect(back == v)
    }

    @Test func interleaveConcatSplitAreInversePairs() {
        let s = Shape(batch: 2, channels: 3, time: 8)
        let x = (0..<s.count).map { Float($0) }
        var e = [Float](repeating: 0, count: s.count / 2), o = e, y = x
        x.withUnsafeBufferPointer { xp in e.withUnsafeMutableBufferPointer { ep in o.withUnsafeMutableBufferPointer { op in
            Rearrange.deinterleave(xp.baseAddress!, shape: s, even: ep.baseAddress!, odd: op.baseAddress!) } } }
        #expect(e[0] == 0 && o[0] == 1 && e[1] == 2 && e[4] == 8)
        e.withUnsafeBufferPointer { ep in o.withUnsafeBufferPointer { op in y.withUnsafeMutableBufferPointer {
            Rearrange.interleave(even: ep.baseAddress!, odd: op.baseAddress!, shape: s, into: $0.baseAddress!) } } }
        #expect(y == x)

        let a = (0..<(2 * 1 * 4)).map { Float($0) }, b = (0..<(2 * 2 * 4)).map { Float(100 + $0) }
        var cat = [Float](repeating: 0, count: a.count + b.count)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in cat.withUnsafeMutableBufferPointer {
            Rearrange.concatChannels(ap.baseAddress!, channelsA: 1, bp.baseAddress!, channelsB: 2, batch: 2, time: 4, into: $0.baseAddress!) } } }
        #expect(Array(cat[0..<4]) == Array(a[0..<4]) && Array(cat[4..<12]) == Array(b[0..<8]) && Array(cat[12..<16]) == Array(a[4..<8]))
        var a2 = a, b2 = b
        cat.withUnsafeBufferPointer { cp in a2.withUnsafeMutableBufferPointer { ap in b2.withUnsafeMutableBufferPointer { bp in
            Rearrange.concatChannelsBackward(dy: cp.baseAddress!, channelsA: 1, channelsB: 2, batch: 2, time: 4, da: ap.baseAddress!, db: bp.baseAddress!) } } }
        #expect(a2 == a && b2 == b)
    }

    /// Direct O(B C_out C_in k T) convolution in Double: the independent reference.
    static func naiveConv(_ x: [Float], _ conv: Conv1d, batch: Int, time: Int) -> [Double] {
        let ci = conv.inChannels, co = conv.outChannels, k = conv.kernelSize, d = conv.dilation, c0 = (k - 1) / 2
        var y = [Double](repeating: 0, count: batch * co * time)
        for b in 0..<batch { for o in 0..<co { for t in 0..<time {
            var s = Double(conv.bias.value[o])
            for c in 0..<ci { for j in 0..<k {
                let tt = t + (j - c0) * d
                if tt >= 0 && tt < time { s += Double(conv.weight.value[(o * ci + c) * k + j]) * Double(x[(b * ci + c) * time + tt]) }
            } }
            y[(b * co + o) * time + t] = conv.activation == .relu ? max(s, 0) : s
        } } }
        return y
    }

    static func run(_ conv: Conv1d, _ x: [Float], batch: Int, time: Int) -> [Float] {
        var y = [Float](repeating: 0, count: batch * conv.outChannels * time)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer {
            conv.forward(x: xp.baseAddress!, xBatchStride: conv.inChannels * time, batch: batch, time: time, y: $0.baseAddress!) } }
        return y
    }

    /// (kernel, dilation, relu, C_in, C_out, workers): covers the col2im (C_out > C_in) and the
    /// flipped-kernel (C_out <= C_in) input gradients, k = 1, and the batch split over workers.
    /// Odd `workers` values also force time tiles of 4 columns (11 = 4 + 4 + 3).
    static let convShapes = [(3, 1, false, 3, 4, 1), (3, 2, true, 3, 4, 1), (3, 4, false, 5, 2, 1), (1, 1, false, 3, 4, 1),
                             (5, 1, true, 4, 4, 2), (3, 2, false, 3, 5, 3), (1, 1, true, 4, 2, 2), (3, 2, true, 4, 3, 1),
                             (3, 1, true, 2, 5, 3), (1, 1, false, 3, 2, 1)]

    /// The convolution of one `convShapes` entry (initialised from `seed`).
    static func makeConv(kernel: Int, dilation: Int, relu: Bool, ci: Int, co: Int, workers: Int, seed: UInt64 = 7) throws -> Conv1d {
        let conv = try Conv1d(name: "c", inChannels: ci, outChannels: co, kernelSize: kernel, dilation: dilation,
                              activation: relu ? .relu : .identity, initialization: .torchDefault(seed: seed))
        conv.workers = workers
        if workers % 2 == 1 { conv.tileWidthOverride = 4 }
        return conv
    }

    /// Backward of L = w · conv(x) (w from `weightSeed`) and its gradient check over weight, bias
    /// and x. ReLU kinks within reach of a step are the harness's business (see GradientCheck).
    static func convGradients(_ conv: Conv1d, x: Box, batch B: Int, time T: Int, weightSeed: UInt64 = 9,
                              checkSeed: UInt64 = 99) throws -> (y: [Float], w: [Float], dx: [Float], result: GradientCheck.Result) {
        let ci = conv.inChannels
        let y = Self.run(conv, x.values, batch: B, time: T)
        let w = randomArray(y.count, seed: weightSeed)
        var dx = [Float](repeating: 0, count: x.values.count)
        try y.withUnsafeBufferPointer { yp in try w.withUnsafeBufferPointer { wp in try dx.withUnsafeMutableBufferPointer {
            try conv.backward(x: x.values, xBatchStride: ci * T, y: yp.baseAddress!, dy: wp.baseAddress!, batch: B, time: T, dx: $0.baseAddress!,
                              dxBatchStride: ci * T, accumulate: false) } } }
        let r = GradientCheck(seed: checkSeed).run([GradientCheck.probe(conv.weight), GradientCheck.probe(conv.bias),
                                                    GradientCheck.probe("x", x, analytic: dx)]) {
            dot(w, Self.run(conv, x.values, batch: B, time: T))
        }
        return (y, w, dx, r)
    }

    @Test(arguments: OpsTests.convShapes)
    func conv1dMatchesDirectAndGradients(kernel: Int, dilation: Int, relu: Bool, ci: Int, co: Int, workers: Int) throws {
        let B = 3, T = 11
        let conv = try Self.makeConv(kernel: kernel, dilation: dilation, relu: relu, ci: ci, co: co, workers: workers)
        let x = Box(randomArray(B * ci * T, seed: 8))
        let ref = Self.naiveConv(x.values, conv, batch: B, time: T)
        let (y, w, dx, r) = try Self.convGradients(conv, x: x, batch: B, time: T)
        for i in y.indices { #expect(abs(Double(y[i]) - ref[i]) < 1e-5) }
        r.expectClean()

        // accumulate: true adds to what dx holds.
        _ = Self.run(conv, x.values, batch: B, time: T)
        var dx2 = [Float](repeating: 1, count: dx.count)
        try y.withUnsafeBufferPointer { yp in try w.withUnsafeBufferPointer { wp in try dx2.withUnsafeMutableBufferPointer {
            try conv.backward(x: x.values, xBatchStride: ci * T, y: yp.baseAddress!, dy: wp.baseAddress!, batch: B, time: T,
                              dx: $0.baseAddress!, dxBatchStride: ci * T, accumulate: true) } } }
        for i in dx.indices { #expect(abs(dx2[i] - 1 - dx[i]) < 1e-5) }
    }

    @Test func conv1dTorchDefaultInitBoundsAndZeroInit() throws {
        let c = try Conv1d(name: "c", inChannels: 4, outChannels: 64, kernelSize: 3, initialization: .torchDefault(seed: 1))
        let bound = 1 / Float(12).squareRoot()
        #expect(c.weight.value.allSatisfy { abs($0) <= bound } && c.bias.value.allSatisfy { abs($0) <= bound })
        #expect(c.weight.value.max()! > 0.8 * bound && c.weight.value.min()! < -0.8 * bound)
        let z = try Conv1d(name: "z", inChannels: 4, outChannels: 8, kernelSize: 3, initialization: .zeros)
        #expect(z.weight.value.allSatisfy { $0 == 0 } && z.bias.value.allSatisfy { $0 == 0 })
        #expect(throws: FlowEngineError.self) { try Conv1d(name: "bad", inChannels: 1, outChannels: 1, kernelSize: 2, initialization: .zeros) }
    }

    @Test func backwardWithoutForwardThrows() throws {
        let c = try Conv1d(name: "c", inChannels: 1, outChannels: 1, kernelSize: 3, initialization: .zeros)
        let y = [Float](repeating: 0, count: 4)
        #expect(throws: FlowEngineError.backwardWithoutForward("c.weight")) {
            try y.withUnsafeBufferPointer { try c.backward(x: $0.baseAddress!, xBatchStride: 4, y: $0.baseAddress!, dy: $0.baseAddress!, batch: 1, time: 4, dx: nil, dxBatchStride: 4, accumulate: false) }
        }
    }
}

/// The layout ops' backward passes (the inverse permutations) through the same harness.
@Suite struct RearrangeGradientTests {
    @Test func squeezeInterleaveConcatBackwardByFiniteDifferences() {
        let s = Shape(batch: 2, channels: 1, time: 16)
        let x = Box(randomArray(s.count, seed: 1))
        let w = randomArray(s.count, seed: 2)
        func run<T>(_ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> T) -> [Float] {
            var y = [Float](repeating: 0, count: s.count)
            x.values.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { _ = body(xp.baseAddress!, $0.baseAddress!) } }
            return y
        }
        // squeeze by 4: backward = unsqueeze of the upstream gradient
        var dSq = [Float](repeating: 0, count: s.count)
        w.withUnsafeBufferPointer { wp in dSq.withUnsafeMutableBufferPointer { Rearrange.unsqueeze(wp.baseAddress!, $0.baseAddress!, shape: s, factor: 4) } }
        let r1 = GradientCheck(step: 1e-2).run([GradientCheck.probe("squeeze.x", x, analytic: dSq)]) {
            dot(w, run { Rearrange.squeeze($0, $1, shape: s, factor: 4) })
        }
        r1.expectClean()
        // deinterleave into [even | odd]: backward = interleave
        var dDe = [Float](repeating: 0, count: s.count)
        let half = s.count / 2
        w.withUnsafeBufferPointer { wp in dDe.withUnsafeMutableBufferPointer {
            Rearrange.interleave(even: wp.baseAddress!, odd: wp.baseAddress! + half, shape: s, into: $0.baseAddress!) } }
        let r2 = GradientCheck(step: 1e-2).run([GradientCheck.probe("deinterleave.x", x, analytic: dDe)]) {
            dot(w, run { Rearrange.deinterleave($0, shape: s, even: $1, odd: $1 + half) })
        }
        r2.expectClean()
        // split channels (B, 1+3, 4): backward = concat
        var dSp = [Float](repeating: 0, count: s.count)
        let aCount = 2 * 1 * 4
        w.withUnsafeBufferPointer { wp in dSp.withUnsafeMutableBufferPointer {
            Rearrange.splitChannelsBackward(da: wp.baseAddress!, db: wp.baseAddress! + aCount, channelsA: 1, channelsB: 3,
                                            batch: 2, time: 4, dx: $0.baseAddress!) } }
        let r3 = GradientCheck(step: 1e-2).run([GradientCheck.probe("split.x", x, analytic: dSp)]) {
            dot(w, run { Rearrange.splitChannels($0, channelsA: 1, channelsB: 3, batch: 2, time: 4, a: $1, b: $1 + aCount) })
        }
        r3.expectClean()
    }
}
