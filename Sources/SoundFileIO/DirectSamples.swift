import DiscreteAudio
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Uncompressed stored samples read straight from the file's pages, without copying them through
/// a read buffer: the data region libsndfile located (it parses the header; the region starts at
/// the descriptor's position when `sf_open_fd` returns) is mapped in windows of `windowBytes` and
/// each stored code is turned into its bin in one pass.
///
/// Used for 16-bit PCM (either byte order, as `SFC_RAW_DATA_NEEDS_ENDSWAP` says) and for 8-bit
/// and G.711 codes stored as bytes. `SoundFileReader` enables it only after checking, on samples
/// at the start, middle and end, that it yields exactly what libsndfile's own read does, and only
/// when the file holds every declared frame (a short file goes through libsndfile, which reports
/// the truncation). Memory: one window is mapped at a time, so the resident size does not grow
/// with the file.
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
    private var window: UnsafeRawPointer?
    private var windowStart: Int64 = 0
    private var windowCount = 0
    /// Stand-in for a window when the file cannot be mapped: bytes are `pread` into it.
    private var scratch = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    static let windowBytes = 4 << 20

    init(fd: Int32, width: Int, swap: Bool, dataOffset: Int64, samples: Int64, byteToBin: [UInt16]) {
        self.fd = fd
        self.width = width
        self.swap = swap
        self.dataOffset = dataOffset
        self.samples = samples
        self.byteToBin = byteToBin
    }

    deinit {
        unmap()
        scratch.deallocate()
    }

    private func unmap() {
        if let w = window { munmap(UnsafeMutableRawPointer(mutating: w), windowCount) }
        window = nil
        windowCount = 0
    }

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
    /// (a whole number of samples, at least one): from the current window, a new one, or `pread`.
    private func bytes(at start: Int64, count: Int) -> (UnsafeRawPointer, Int)? {
        if let w = window, start >= windowStart, start + Int64(width) <= windowStart + Int64(windowCount) {
            let off = Int(start - windowStart)
            return (w + off, min(count, (windowCount - off) / width * width))
        }
        unmap()
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let mapStart = start / page * page
        let end = dataOffset + samples * Int64(width)
        let length = Int(min(end - mapStart, Int64(Self.windowBytes)))
        var st = stat()
        if let p = mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off_t(mapStart)), p != MAP_FAILED {
            // a file cut short meanwhile would fault (SIGBUS) past its end: read it instead
            guard fstat(fd, &st) == 0, Int64(st.st_size) >= mapStart + Int64(length) else {
                munmap(p, length)
                return readInstead(at: start, count: count)
            }
            window = UnsafeRawPointer(p)
            windowStart = mapStart
            windowCount = length
            let off = Int(start - mapStart)
            return (UnsafeRawPointer(p) + off, min(count, (length - off) / width * width))
        }
        return readInstead(at: start, count: count)
    }

    /// Not mappable (or shorter than when opened): `pread` into a buffer; nil at end of file.
    private func readInstead(at start: Int64, count: Int) -> (UnsafeRawPointer, Int)? {
        let want = min(count, 1 << 20)
        if scratch.count < want {
            scratch.deallocate()
            scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: want, alignment: 64)
        }
        var got = 0
        while got < want {
            let r = pread(fd, scratch.baseAddress! + got, want - got, off_t(start) + off_t(got))
            if r < 0 && errno == EINTR { continue }
            if r < 0 { lastError = errno }
            if r <= 0 { break }
            got += r
        }
        let usable = got / width * width
        return usable > 0 ? (UnsafeRawPointer(scratch.baseAddress!), usable) : nil
    }
}
