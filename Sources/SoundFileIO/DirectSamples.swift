import DiscreteAudio
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uncompressed stored samples turned into bins in one pass over the stored bytes: the data region
/// libsndfile located (it parses the header; the region starts at the descriptor's position when
/// `sf_open_fd` returns) is read with `pread` in windows of `windowBytes` into one buffer, and each
/// stored code is turned into its bin from there.
///
/// Used for 16-bit PCM (either byte order, as `SFC_RAW_DATA_NEEDS_ENDSWAP` says) and for 8-bit
/// and G.711 codes stored as bytes. `CodeReader` enables it only after checking, on samples
/// at the start, middle and end, that it yields exactly what libsndfile's own read does, and only
/// when the file holds every declared frame (a short file goes through libsndfile, which reports
/// the truncation). Memory: one window, whatever the file's length.
///
/// The file is read, not mapped: a mapped page that another process truncates away faults
/// (SIGBUS) when it is touched, whatever was checked when the mapping was made, while `pread`
/// of a file cut short meanwhile simply returns fewer bytes, which `decode` reports (the copy
/// out of the page cache costs nothing measurable in a conversion; README, Performance).
final class DirectSamples {
    /// Bytes per stored sample: 2 (16-bit PCM) or 1 (8-bit, G.711).
    let width: Int
    /// 16-bit samples are stored in the other byte order than the host's.
    let swap: Bool
    /// File offset of sample 0, bytes.
    let dataOffset: Int64
    /// Samples in the data region (frames × channels).
    let samples: Int64
    private let fd: Int32
    private let byteToBin: [UInt16]
    /// The window: file bytes windowStart..<windowStart + windowCount.
    private var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var windowStart: Int64 = 0
    private var windowCount = 0
    static let windowBytes = 1 << 20

    init(fd: Int32, width: Int, swap: Bool, dataOffset: Int64, samples: Int64, byteToBin: [UInt16]) {
        self.fd = fd
        self.width = width
        self.swap = swap
        self.dataOffset = dataOffset
        self.samples = samples
        self.byteToBin = byteToBin
    }

    deinit { buffer.deallocate() }

    /// errno of the last failed read (0: none; a short decode without it is an early end of file).
    private(set) var lastError: Int32 = 0

    /// Writes the bins of samples first..<first + bins.count into `bins`; returns how many it
    /// wrote: fewer only when the file ended early (cut short since it was opened) or a read
    /// failed (`lastError`).
    func decode(first: Int64, into bins: UnsafeMutableBufferPointer<UInt32>) -> Int {
        var done = 0
        while done < bins.count {
            let start = dataOffset + (first + Int64(done)) * Int64(width)
            guard let (p, available) = bytes(at: start, count: (bins.count - done) * width) else { return done }
            let n = available / width
            let out = UnsafeMutableBufferPointer(rebasing: bins[done..<(done + n)])
            if width == 2 {
                if swap {
                    for i in 0..<n { out[i] = UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).byteSwapped ^ 0x8000) }
                } else {
                    for i in 0..<n { out[i] = UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self) ^ 0x8000) }
                }
            } else {
                let b = p.assumingMemoryBound(to: UInt8.self)
                byteToBin.withUnsafeBufferPointer { table in
                    for i in 0..<n { out[i] = UInt32(table[Int(b[i])]) }
                }
            }
            done += n
        }
        return done
    }

    /// A pointer to the file's bytes from `start`, and how many of the `count` wanted it covers
    /// (a whole number of samples, at least one): from the current window, or a new one read with
    /// `pread` from `start`; nil at end of file or after a failed read (`lastError`).
    private func bytes(at start: Int64, count: Int) -> (UnsafeRawPointer, Int)? {
        if start >= windowStart, start + Int64(width) <= windowStart + Int64(windowCount) {
            let off = Int(start - windowStart)
            return (UnsafeRawPointer(buffer.baseAddress!) + off, min(count, (windowCount - off) / width * width))
        }
        let end = dataOffset + samples * Int64(width)
        let want = Int(min(end - start, Int64(Self.windowBytes)))
        if buffer.count < want {
            buffer.deallocate()
            buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: want, alignment: 64)
        }
        let (got, error) = DescriptorIO.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<max(0, want)]), at: start)
        if error != 0 { lastError = error }
        windowStart = start
        windowCount = got / width * width
        return windowCount > 0 ? (UnsafeRawPointer(buffer.baseAddress!), min(count, windowCount)) : nil
    }
}
