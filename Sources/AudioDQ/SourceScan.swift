import DiscreteAudio
import SoundFileIO

/// What has to be known about a source before resolving how to dequantize it
/// (`DequantSettings.resolve`): its SHA-256 (the default noise stream, a corpus' up-to-date
/// check) and, for `--quantizer auto` on linear PCM, `QuantizerDetector`'s decision over its codes.
///
/// The detection is one pass over the codes through the reader (then `rewind`), run while the
/// source is hashed on another thread from the same descriptor (`FileHasher`, `pread` only), so
/// the two passes overlap instead of adding up.
enum SourceScan {
    /// Frames per read of the detection pass.
    static let chunkFrames = 65536

    /// The source `reader` reads (opened, at frame 0), hashed when `hash`, detected when `detect`
    /// (linear PCM only); the reader is back at frame 0 afterwards.
    static func scan(_ reader: CodeReader, path: String, raw: RawFormat?, hash: Bool, detect: Bool) throws -> DequantSource {
        var source = DequantSource(path: path, info: reader.info, raw: raw)
        guard detect && reader.info.encoding.isLinear else {
            if hash { source.sha256 = try FileHasher.hash(reader: reader) }
            return source
        }
        let hasher = hash ? FileHasher(reader: reader) : nil
        let detection: QuantizerDetection
        do {
            detection = try SourceScan.detect(reader)
        } catch {
            _ = try? hasher?.value()
            throw error
        }
        source.sha256 = try hasher?.value()
        source.detection = detection
        return source
    }

    /// `QuantizerDetector`'s decision over every code of `reader` (linear PCM, at frame 0), with
    /// the header's declared valid bits; rewinds the reader to frame 0.
    static func detect(_ reader: CodeReader) throws -> QuantizerDetection {
        let info = reader.info
        var detector = try QuantizerDetector(encoding: info.encoding)
        // clipped to the file: a header declaring 65,535 channels must not cost 65,536 frames of them
        let frames = Int(min(Int64(chunkFrames), max(1, info.frames)))
        let buf = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: frames * info.channels)
        defer { buf.deallocate() }
        while true {
            let n: Int
            do { n = try reader.read(into: buf) * info.channels } catch { throw AudioDQError.soundFile(error) }
            if n == 0 { break }
            detector.add(bins: UnsafeBufferPointer(rebasing: buf[..<n]))
        }
        do { try reader.rewind() } catch { throw AudioDQError.soundFile(error) }
        return try detector.detect(declaredValidBits: reader.declaredValidBits)
    }
}
