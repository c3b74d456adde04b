/// Small vectorised loops used by the layers' hot paths (8 lanes at a time, scalar tail).
/// Pointers are unchecked; callers guarantee `n` valid elements.
enum Kernels {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// p[i] = value.
    @inline(__always)
    static func fill(_ p: UnsafeMutablePointer<Float>, _ value: Float, _ n: Int) {
        p.update(repeating: value, count: n)
    }

    /// p[i] = max(p[i], 0).
    static func reluInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
        var i = 0
        let z = SIMD8<Float>.zero
        while i &+ 8 <= n {
            let v = load(p + i)
            store(v.replacing(with: z, where: v .< z), p + i)
            i &+= 8
        }
        while i < n { p[i] = max(p[i], 0); i &+= 1 }
    }

    /// dst[i] = y[i] > 0 ? dy[i] : 0; returns the sum of dst.
    static func reluMaskSum(
        dy: UnsafePointer<Float>, y: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, _ n: Int
    ) -> Float {
        var acc = SIMD8<Float>.zero
        var i = 0
        let z = SIMD8<Float>.zero
        while i &+ 8 <= n {
            let v = load(dy + i).replacing(with: 0, where: load(y + i) .<= z)
            store(v, dst + i)
            acc += v
            i &+= 8
        }
        var s = acc.sum()
        while i < n {
            let v = y[i] > 0 ? dy[i] : 0
            dst[i] = v
            s += v
            i &+= 1
        }
        return s
    }

    /// Sum of p[0..<n] (8 partial sums).
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>.zero
        var i = 0
        while i &+ 8 <= n { acc += load(p + i); i &+= 8 }
        var s = acc.sum()
        while i < n { s += p[i]; i &+= 1 }
        return s
    }

    /// dst[i] += src[i].
    static func addInPlace(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i &+ 8 <= n {
            store(load(dst + i) + load(src + i), dst + i)
            i &+= 8
        }
        while i < n { dst[i] += src[i]; i &+= 1 }
    }

    /// Sum of a[i] * b[i] (8 partial sums).
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>.zero
        var i = 0
        while i &+ 8 <= n { acc += load(a + i) * load(b + i); i &+= 8 }
        var s = acc.sum()
        while i < n { s += a[i] * b[i]; i &+= 1 }
        return s
    }
}
