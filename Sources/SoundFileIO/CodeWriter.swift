import CSndFile
import DiscreteAudio
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bin indices back as the stored codes of an encoding, exactly (never through floats).
///
/// 8-bit and G.711 in containers that store raw bytes: `sf_write_raw` of the stored bytes;
/// 8-bit FLAC: `sf_write_short(v·256)`; 16-bit: `sf_write_short`; 24-bit: `sf_write_int(v·256)`.
/// `close()` corrects libsndfile's header of odd-length 8-bit AIFF, then opens the file again and
/// refuses it unless its header declares the frames written.
/// The caller owns atomicity (it passes a temporary path and renames after `close()`).
public final class CodeWriter {
    public let path: String
    public let container: AudioContainer
    public let encoding: SampleEncoding
    public let channels: Int
    private var handle: OpaquePointer?
    private let map: BinMap
    private let useRaw: Bool
    private var scratch: UnsafeMutableRawBufferPointer = .init(start: nil, count: 0)
    /// Frames written so far.
    public private(set) var framesWritten: Int64 = 0

    /// Creates `path`, or writes through a duplicate of `descriptor` (from its current position;
    /// `path` then only names it in errors); `bigEndianRaw` is the byte order of multi-byte samples in headerless RAW
    /// (`AudioContainer.sfFormat`), ignored otherwise. Throws `.containerCannotHold` when libsndfile's `sf_format_check` rejects the
    /// container/encoding pair (e.g. WAV with signed 8-bit, AU with unsigned 8-bit, FLAC with G.711)
    /// or does not write it exactly (`AudioContainer.writesExactly`).
    public init(path: String, descriptor: Int32? = nil, container: AudioContainer, encoding: SampleEncoding,
                sampleRate: Int, channels: Int, bigEndianRaw: Bool = false) throws(SoundFileError) {
        self.path = path
        self.container = container
        self.encoding = encoding
        self.channels = channels
        self.map = BinMap(encoding)
        self.useRaw = encoding.bits == 8 && container.storesRawBytes
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = Int32(channels)
        info.format = container.sfFormat(encoding, bigEndian: bigEndianRaw)
        guard container.writesExactly(encoding), sf_format_check(&info) != 0 else {
            throw .containerCannotHold(path: path, container: container.displayName, encoding: encoding.displayName)
        }
        handle = try LibSndfile.open(path: path, descriptor: descriptor, mode: Int32(SFM_WRITE), info: &info) { .cannotCreate(path: path, reason: $0) }
    }

    deinit {
        if let handle { sf_close(handle) }
        scratch.deallocate()
    }

    private func ensureScratch(_ bytes: Int) {
        if scratch.count < bytes {
            scratch.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        }
    }

    /// Writes interleaved bin indices (whole frames). Precondition: every bin < K.
    public func write(bins: UnsafeBufferPointer<UInt32>) throws(SoundFileError) {
        guard let handle else { throw .writeFailed(path: path, reason: "already closed") }
        let n = bins.count
        precondition(n % channels == 0, "whole frames only")
        let written: Int
        if useRaw {
            ensureScratch(n)
            let b = scratch.bindMemory(to: UInt8.self)
            map.binToByte.withUnsafeBufferPointer { t in
                for i in 0..<n { b[i] = t[Int(bins[i])] }
            }
            written = Int(sf_write_raw(handle, b.baseAddress, sf_count_t(n)))
        } else if encoding == .pcm24 {
            ensureScratch(n * 4)
            let s = scratch.bindMemory(to: Int32.self)
            for i in 0..<n { s[i] = (Int32(bitPattern: bins[i]) &- (1 << 23)) << 8 }
            written = Int(sf_write_int(handle, s.baseAddress, sf_count_t(n)))
        } else {
            ensureScratch(n * 2)
            let s = scratch.bindMemory(to: Int16.self)
            if encoding == .pcm16 {
                for i in 0..<n { s[i] = Int16(bitPattern: UInt16(truncatingIfNeeded: bins[i]) ^ 0x8000) }
            } else {
                for i in 0..<n { s[i] = Int16(Int(bins[i]) - 128) << 8 }
            }
            written = Int(sf_write_short(handle, s.baseAddress, sf_count_t(n)))
        }
        if written != n {
            throw .writeFailed(path: path, reason: String(cString: sf_strerror(handle)))
        }
        framesWritten += Int64(n / channels)
    }

    /// Finishes the header and closes the file. Throws when the final write fails (e.g. disk full).
    public func close() throws(SoundFileError) {
        guard let h = handle else { return }
        handle = nil
        sf_write_sync(h)
        let err = sf_error(h)
        let msg = err != 0 ? String(cString: sf_strerror(h)) : ""
        let rc = sf_close(h)
        if err != 0 { throw .writeFailed(path: path, reason: msg) }
        if rc != 0 { throw .writeFailed(path: path, reason: "close failed (\(rc))") }
        let dataBytes = framesWritten * Int64(channels)
        if container == .aiff && encoding.bits == 8 && dataBytes % 2 == 1 {
            _ = HeaderCheck.correctAIFFPad(path: path, frames: framesWritten, dataBytes: dataBytes)
        }
        try verifyFrameCount()
    }

    /// Opens the closed file again and checks that its header declares the frames written, so a
    /// header libsndfile gets wrong is never kept (it counts the pad byte of 8-bit AIFF data of
    /// odd length as a sample; `close()` corrects that one first).
    private func verifyFrameCount() throws(SoundFileError) {
        guard container != .raw else { return }   // no header: the file is the bytes written
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return }   // devices, FIFOs
        var info = SF_INFO()
        let h = try LibSndfile.open(path: path, mode: Int32(SFM_READ), info: &info) {
            .writeFailed(path: path, reason: "libsndfile cannot open the file it wrote: \($0)")
        }
        sf_close(h)
        if info.frames != framesWritten || Int(info.channels) != channels {
            throw .writeFailed(path: path, reason: "libsndfile's \(container.displayName) header declares \(info.frames) frames, \(framesWritten) were written; refusing an inexact file")
        }
    }
}
