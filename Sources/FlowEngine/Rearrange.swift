/// Pure data movement on (batch, channels, time) buffers. Every operation is a permutation (or a
/// block copy), so its backward is the inverse operation applied to the gradient; the pairs are
/// listed side by side. Source and destination must not overlap.
public enum Rearrange {
    /// Concatenate along channels: (B, Ca, T) and (B, Cb, T) -> (B, Ca + Cb, T).
    public static func concatChannels(
        _ a: UnsafePointer<Float>, channelsA: Int, _ b: UnsafePointer<Float>, channelsB: Int,
        batch: Int, time: Int, into y: UnsafeMutablePointer<Float>
    ) {
        let na = channelsA * time, nb = channelsB * time
        for i in 0..<batch {
            (y + i * (na + nb)).update(from: a + i * na, count: na)
            (y + i * (na + nb) + na).update(from: b + i * nb, count: nb)
        }
    }

    /// Backward of `concatChannels` = `splitChannels` of the gradient.
    public static func concatChannelsBackward(
        dy: UnsafePointer<Float>, channelsA: Int, channelsB: Int, batch: Int, time: Int,
        da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>
    ) {
        splitChannels(dy, channelsA: channelsA, channelsB: channelsB, batch: batch, time: time, a: da, b: db)
    }

    /// Split along channels: (B, Ca + Cb, T) -> (B, Ca, T), (B, Cb, T).
    public static func splitChannels(
        _ x: UnsafePointer<Float>, channelsA: Int, channelsB: Int, batch: Int, time: Int,
        a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>
    ) {
        let na = channelsA * time, nb = channelsB * time
        for i in 0..<batch {
            (a + i * na).update(from: x + i * (na + nb), count: na)
            (b + i * nb).update(from: x + i * (na + nb) + na, count: nb)
        }
    }

    /// Backward of `splitChannels` = `concatChannels` of the gradients.
    public static func splitChannelsBackward(
        da: UnsafePointer<Float>, db: UnsafePointer<Float>, channelsA: Int, channelsB: Int, batch: Int,
        time: Int, dx: UnsafeMutablePointer<Float>
    ) {
        concatChannels(da, channelsA: channelsA, db, channelsB: channelsB, batch: batch, time: time, into: dx)
    }

    /// Squeeze along time by `factor` G: (B, C, T) -> (B, C G, T/G) with
    /// y[b, c G + g, t] = x[b, c, G t + g]. For C = 1 this is "channel c of step t = sample G t + c";
    /// G = 2 gives the even/odd split [even samples, odd samples]. T must be a multiple of G.
    public static func squeeze(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, shape: Shape, factor g: Int
    ) {
        let T = shape.time, Ts = T / g
        for b in 0..<shape.batch {
            for c in 0..<shape.channels {
                let src = x + (b * shape.channels + c) * T
                let dst = y + (b * shape.channels + c) * g * Ts
                for k in 0..<g {
                    let d = dst + k * Ts
                    for t in 0..<Ts { d[t] = src[g * t + k] }
                }
            }
        }
    }

    /// Inverse of `squeeze` (and its backward): (B, C G, T/G) -> (B, C, T). The loop mirrors
    /// `squeeze` on purpose: squeeze is a permutation P, and unsqueeze is P^-1 = P^T, its adjoint,
    /// so the two share their index map x[b, c, G t + k] <-> y[b, c G + k, t] with the copy
    /// reversed; one cannot be written as a call of the other without a scratch buffer.
    public static func unsqueeze(
        _ y: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, shape: Shape, factor g: Int
    ) {
        let T = shape.time, Ts = T / g
        for b in 0..<shape.batch {
            for c in 0..<shape.channels {
                let dst = x + (b * shape.channels + c) * T
                let src = y + (b * shape.channels + c) * g * Ts
                for k in 0..<g {
                    let s = src + k * Ts
                    for t in 0..<Ts { dst[g * t + k] = s[t] }
                }
            }
        }
    }

    /// Even/odd de-interleave along time: (B, C, T) -> even (B, C, T/2) = x[..., 0::2],
    /// odd (B, C, T/2) = x[..., 1::2]. Backward = `interleave` of the gradients.
    public static func deinterleave(
        _ x: UnsafePointer<Float>, shape: Shape, even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>
    ) {
        let h = shape.time / 2
        for r in 0..<(shape.batch * shape.channels) {
            let s = x + r * shape.time
            let e = even + r * h, o = odd + r * h
            for t in 0..<h {
                e[t] = s[2 * t]
                o[t] = s[2 * t + 1]
            }
        }
    }

    /// Inverse of `deinterleave` (and its backward): x[..., 2t] = even[t], x[..., 2t + 1] = odd[t].
    /// `shape` is that of the interleaved result x.
    public static func interleave(
        even: UnsafePointer<Float>, odd: UnsafePointer<Float>, shape: Shape, into x: UnsafeMutablePointer<Float>
    ) {
        let h = shape.time / 2
        for r in 0..<(shape.batch * shape.channels) {
            let d = x + r * shape.time
            let e = even + r * h, o = odd + r * h
            for t in 0..<h {
                d[2 * t] = e[t]
                d[2 * t + 1] = o[t]
            }
        }
    }
}
