import DiscreteAudio
import SoundFileIO

/// What `audiodq info` reports about a discrete audio file, computed in one streaming pass.
///
/// - `codeRange`: lowest and highest bin index used.
/// - `distinctCodes`: number of different bins used (of K).
/// - `clippingShare`: share of samples at bin 0 or bin K − 1 (the extreme codes).
/// - `zeroShare`: share of samples at the zero bin(s): K/2 for linear PCM; μ-law's "−0" and "+0"
///   (bins 127, 128); A-law's ±8 (bins 127, 128: A-law has no zero level).
/// - `quantizer`: for linear PCM, `QuantizerDetector`'s decision over the same pass, given the
///   valid bits a WAVE_FORMAT_EXTENSIBLE header declares (a declaration outside 1...bits is not
///   passed on); for G.711 bytes the container's codes.
public struct AudioInfo: Codable, Sendable {
    public var path: String
    public var container: String
    public var encoding: SampleEncoding
    public var encodingName: String
    public var binCount: Int
    public var sampleRate: Int
    public var channels: Int
    public var frames: Int
    public var durationSeconds: Double
    public var codeRange: [Int]?
    public var distinctCodes: Int
    public var clippingShare: Double
    public var zeroShare: Double
    public var quantizer: QuantizerInfo

    public static func compute(path: String, raw: RawFormat? = nil, chunkFrames: Int = 65536) throws -> AudioInfo {
        let reader: CodeReader
        do { reader = try CodeReader(path: path, raw: raw) } catch { throw AudioDQError.soundFile(error) }
        let info = reader.info
        let k = info.binCount
        var seen = [UInt64](repeating: 0, count: (k + 63) / 64)
        var lo = Int.max, hi = Int.min
        var clip = 0, zero = 0, total = 0
        let zeroBins = info.encoding.zeroBins
        let z0 = UInt32(zeroBins[0]), z1 = UInt32(zeroBins.last!)
        let top = UInt32(k - 1)
        var detector = info.encoding.isLinear ? try QuantizerDetector(encoding: info.encoding) : nil
        var buf = [UInt32](repeating: 0, count: chunkFrames * info.channels)
        while true {
            let n: Int
            do { n = try buf.withUnsafeMutableBufferPointer { try reader.read(into: $0) } * info.channels }
            catch { throw AudioDQError.soundFile(error as! SoundFileError) }
            if n == 0 { break }
            for i in 0..<n {
                let b = buf[i]
                seen[Int(b >> 6)] |= 1 << UInt64(b & 63)
                if b == 0 || b == top { clip += 1 }
                if b == z0 || b == z1 { zero += 1 }
                lo = min(lo, Int(b)); hi = max(hi, Int(b))
            }
            buf.withUnsafeBufferPointer { detector?.add(bins: UnsafeBufferPointer(rebasing: $0[..<n])) }
            total += n
        }
        let quantizer: QuantizerInfo
        if let detector {
            quantizer = QuantizerInfo(try detector.detect(declaredValidBits: reader.declaredValidBits))
        } else {
            quantizer = .containerCodes(info.encoding)
        }
        let distinct = seen.reduce(0) { $0 + $1.nonzeroBitCount }
        return AudioInfo(path: path, container: info.container.rawValue, encoding: info.encoding,
                         encodingName: info.encoding.displayName, binCount: k, sampleRate: info.sampleRate,
                         channels: info.channels, frames: Int(info.frames), durationSeconds: info.duration,
                         codeRange: total > 0 ? [lo, hi] : nil, distinctCodes: distinct,
                         clippingShare: total > 0 ? Double(clip) / Double(total) : 0,
                         zeroShare: total > 0 ? Double(zero) / Double(total) : 0, quantizer: quantizer)
    }
}
