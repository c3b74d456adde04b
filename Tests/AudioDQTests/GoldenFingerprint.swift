import Foundation

/// Kernel-independent summaries of outputs whose bytes depend on float32 rounding in OpenBLAS
/// (variational noise): compared with a tolerance instead of by SHA-256.
enum GoldenFingerprint {
    /// Frames per block of the means.
    static let blockFrames = 64

    /// A variational `.f32`/`.f64` output, read with its sidecar: frames, channels, the SHA-256 of
    /// the decoded codes (x as little-endian UInt32, interleaved: exact on every CPU, since every
    /// value decodes to its code), the number of values outside their bin (0), and per channel the
    /// mean within-bin position w over each block of `blockFrames` frames. With s = y·K (unit) or
    /// y·K/2 (symmetric), w = s − ⌊s⌋ and x = ⌊s⌋ (+ K/2 symmetric), computed in Double (exact for
    /// these y). sgemm rounding moves u by about one float32 step (≈ 1.2·10⁻⁷ bins measured), a
    /// changed draw of one sample moves its block's mean by about 0.3/64.
    static func values(_ data: Data, sidecar: GoldenJSON) throws -> GoldenJSON {
        guard let k = sidecar["source.binCount"]?.number, let channels = sidecar["source.channels"]?.number,
              let range = sidecar["dequantization.range"]?.string, let dtype = sidecar["output.dtype"]?.string,
              ["f32", "f64"].contains(sidecar["output.format"]?.string ?? "") else {
            throw GoldenError("a variational output needs a raw .f32/.f64 format and a sidecar with K, channels, range, dtype")
        }
        let y = dtype == "float64" ? floats(data, as: Double.self) : floats(data, as: Float.self).map(Double.init)
        let c = Int(channels), frames = y.count / c
        let scale = range == "symmetric" ? k / 2 : k
        let offset: Double = range == "symmetric" ? k / 2 : 0
        var codes = Data(capacity: y.count * 4)
        var outside = 0
        var w = [Double](repeating: 0, count: y.count)
        for (i, v) in y.enumerated() {
            let s = v * scale, x = s.rounded(.down)
            w[i] = s - x
            let code = x + offset
            if !(code >= 0 && code < k) { outside += 1 }
            withUnsafeBytes(of: UInt32(clamping: Int64(max(0, min(code, k - 1)))).littleEndian) { codes.append(contentsOf: $0) }
        }
        return .object([
            "frames": .number(Double(frames)), "channels": .number(channels), "blockFrames": .number(Double(blockFrames)),
            "codesSHA256": .string(GoldenOutputTests.sha256(codes)),
            "outside": .number(Double(outside)),
            "meanW": blockMeans(w, channels: c),
        ])
    }

    /// A `--log-q` file (float32 nats, interleaved): per channel the mean over each block and the
    /// total (Double sums).
    static func logQ(_ data: Data, channels: Int) -> GoldenJSON {
        let v = floats(data, as: Float.self).map(Double.init)
        return .object([
            "frames": .number(Double(v.count / channels)), "blockFrames": .number(Double(blockFrames)),
            "total": .number(v.reduce(0, +)), "meanLogQ": blockMeans(v, channels: channels),
        ])
    }

    /// Little-endian values of a raw file (this test runs on little-endian machines only).
    private static func floats<T: BinaryFloatingPoint>(_ data: Data, as: T.Type) -> [T] {
        var a = [T](repeating: 0, count: data.count / MemoryLayout<T>.size)
        _ = a.withUnsafeMutableBytes { data.copyBytes(to: $0) }
        return a
    }

    private static func blockMeans(_ v: [Double], channels: Int) -> GoldenJSON {
        let frames = v.count / channels
        return .array((0..<channels).map { ch in
            .array(stride(from: 0, to: frames, by: blockFrames).map { start in
                let end = min(frames, start + blockFrames)
                let sum = (start..<end).reduce(0.0) { $0 + v[$1 * channels + ch] }
                return .number(sum / Double(end - start))
            })
        })
    }
}

struct GoldenError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
