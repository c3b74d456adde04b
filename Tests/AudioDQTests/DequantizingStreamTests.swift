import Foundation
import Testing
@testable import AudioDQ

/// The one streaming loop (`DequantizingStream`) and the `Dequantizer` protocol: the values do not
/// depend on the chunk size or the thread count, for both methods, and equal a reference computed
/// without the loop; the blocks partition the stream; the variational windows cover every frame
/// exactly once whatever the block size.
@Suite struct DequantizingStreamTests {
    static let model = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/variational-u8.dqm").path

    /// Values (and log q) of one pass of the loop over `path`, the blocks in the order the sink
    /// saw them, and the codes it was handed with them.
    static func stream<Value: DequantizedValue>(_ path: String, raw: RawFormat? = nil, _ dequantizer: some Dequantizer, as: Value.Type,
                                                chunk: Int) throws -> (values: [Value], logQ: [Float], blocks: [Range<Int>], codes: [UInt32]) {
        let reader = try CodeReader(path: path, raw: raw)
        var values: [Value] = [], logQ: [Float] = [], blocks: [Range<Int>] = [], codes: [UInt32] = []
        try DequantizingStream.run(reader, dequantizer: dequantizer, as: Value.self, preferredFrames: chunk) { output in
            #expect(output.codes.count == output.block.sampleCount && output.values.count == output.block.sampleCount)
            values.append(contentsOf: output.values)
            if let lq = output.logQ { logQ.append(contentsOf: lq) }
            blocks.append(output.block.frames)
            codes.append(contentsOf: output.codes)
        }
        return (values, logQ, blocks, codes)
    }

    static func uniform(_ signal: DiscreteSignal, range: DequantRange, threads: Int) -> UniformDequantizer {
        var d = UniformDequantizer(binCount: signal.encoding.binCount, range: range, key: NoiseKey(seed: 5, name: "s"))
        d.threads = threads
        return d
    }

    /// Uniform: every chunk size × thread count gives the values of one call of the dequantizer
    /// over the whole file (float32 and float64, mono and stereo), and blocks of the chunk size.
    @Test(arguments: ["stereo.wav", "speech-u8.wav"])
    func uniformIsIndependentOfChunkAndThreads(_ name: String) throws {
        let signal = try readBins(fixture(name))
        let frames = signal.bins.count / signal.channels
        for range in [DequantRange.unit, .symmetric] {
            let whole = Self.uniform(signal, range: range, threads: 1)
            var f32 = [Float](repeating: 0, count: signal.bins.count), f64 = [Double](repeating: 0, count: signal.bins.count)
            signal.bins.withUnsafeBufferPointer { b in
                f32.withUnsafeMutableBufferPointer { whole.dequantize(bins: b, firstIndex: 0, into: $0) }
                f64.withUnsafeMutableBufferPointer { whole.dequantize(bins: b, firstIndex: 0, into: $0) }
            }
            for chunk in [1, 7, 65536] {
                for threads in [1, 2, 3] {
                    let d = Self.uniform(signal, range: range, threads: threads)
                    let a = try Self.stream(fixture(name), d, as: Float.self, chunk: chunk)
                    #expect(a.values == f32, "\(name) \(range) chunk \(chunk) threads \(threads)")
                    #expect(a.logQ.isEmpty && a.codes == signal.bins, "the sink sees each block's own codes")
                    #expect(a.blocks.count == (frames + chunk - 1) / chunk && a.blocks.allSatisfy { $0.count == min(chunk, frames - $0.lowerBound) })
                    let b = try Self.stream(fixture(name), d, as: Double.self, chunk: chunk)
                    #expect(b.values == f64, "\(name) \(range) chunk \(chunk) threads \(threads) float64")
                }
            }
        }
    }

    /// Variational: every chunk size × thread count gives the same values and log q, equal to the
    /// reference of one window at a time over the whole file in memory (no sliding buffer, no
    /// batching), with every value in its bin. The file (five copies of speech-u8's codes, 11
    /// cores) makes blocks of 1, 8, 1 and 1 windows.
    @Test func variationalIsIndependentOfChunkAndThreadsAndMatchesWindowByWindow() throws {
        let model = try DequantModel.load(path: Self.model)
        let dir = try TempDir()
        let path = dir.file("long.raw"), raw = try RawFormat(spec: "u8:8000:1")
        let one = try readBins(fixture("speech-u8.wav")).bins
        try Data((0..<5).flatMap { _ in one.map { UInt8($0) } }).write(to: URL(fileURLWithPath: path))
        let signal = try readBins(path, raw: raw)
        let n = signal.bins.count
        #expect(n == 5 * one.count)
        let key = NoiseKey(seed: 2, name: "v")
        let reference = try VariationalDequantizer(model: model, range: .symmetric, key: key, channels: 1, threads: 1)
        var u = [Float](repeating: 0, count: n), lq = u
        let windows = reference.windows(frames: n)
        try signal.bins.withUnsafeBufferPointer { b in
            for w in windows {
                try u.withUnsafeMutableBufferPointer { up in
                    try lq.withUnsafeMutableBufferPointer { lp in
                        try reference.run(windows: [w], bins: b, base: 0, u: up.baseAddress!, logq: lp.baseAddress!, outBase: 0)
                    }
                }
            }
        }
        let scale = DequantRange.symmetric.scale(binCount: 256), offset = DequantRange.symmetric.offset(binCount: 256)
        let expected = (0..<n).map { UniformDequantizer.place(bin: Int(signal.bins[$0]), u: Double(u[$0]), offset: offset, scale: scale, as: Float.self) }
        let core = VariationalDequantizer.core
        let blocks = [0..<core, core..<(9 * core), (9 * core)..<(10 * core), (10 * core)..<n]
        for chunk in [1, 7, 65536] {
            for threads in [1, 2, 3] {
                let d = try VariationalDequantizer(model: model, range: .symmetric, key: key, channels: 1, threads: threads)
                let got = try Self.stream(path, raw: raw, d, as: Float.self, chunk: chunk)
                #expect(got.values == expected, "chunk \(chunk) threads \(threads)")
                #expect(got.logQ == lq, "chunk \(chunk) threads \(threads)")
                #expect(got.blocks == blocks && got.codes == signal.bins)
            }
        }
        #expect(zip(expected, signal.bins).allSatisfy { DequantRange.symmetric.bin(of: Double($0), binCount: 256) == Int($1) })
    }

    /// The variational blocks, chained from frame 0, partition the file, whatever the caller's
    /// block size: their windows' cores are the file's core grid (`windows(frames:context:)`), each
    /// frame in exactly one core, at most `batchWindows` windows of one length per block (even,
    /// unless the window ends at the file's end), each window within the block's codes and
    /// covering its core with `context` frames each side (clipped at the ends).
    @Test(arguments: [256, 768])
    func variationalWindowsCoverEveryFrameOnce(_ context: Int) {
        let core = VariationalDequantizer.core
        for frames in [1, 2, 255, 257, core - 1, core, core + 1, 3 * core + 17, 8 * core, 8 * core + 1, 9 * core + 300, 20 * core + 5] {
            var covered = [Int](repeating: 0, count: frames)
            var cores: [VariationalDequantizer.Window] = []
            var start = 0
            while start < frames {
                let batch = VariationalDequantizer.batch(startingAt: start, frames: frames, context: context)
                #expect(!batch.isEmpty && batch.count <= VariationalDequantizer.batchWindows)
                #expect(batch.first!.coreLo == start)
                let length = batch[0].hi - batch[0].lo
                for w in batch {
                    #expect(w.hi - w.lo == length)
                    #expect(length % 2 == 0 || w.hi == frames)
                    #expect(w.lo == max(0, w.coreLo - context) && w.hi >= min(frames, w.coreHi + context) && w.hi <= frames)
                    for f in w.coreLo..<w.coreHi { covered[f] += 1 }
                }
                cores += batch
                start = batch.last!.coreHi
            }
            #expect(covered.allSatisfy { $0 == 1 }, "\(frames) frames")
            let grid = VariationalDequantizer.windows(frames: frames, context: context)
            #expect(cores.map(\.coreLo) == grid.map(\.coreLo) && cores.map(\.hi) == grid.map(\.hi))
        }
    }

    /// Through the protocol: the blocks of both dequantizers, chained, partition the stream for
    /// every caller block size; the variational ones do not depend on it, and each block's codes
    /// start and end no earlier than the previous block's (the loop reads every code once).
    @Test func blocksPartitionTheStreamForEveryBlockSize() throws {
        let model = try DequantModel.load(path: Self.model)
        let variational = try VariationalDequantizer(model: model, range: .unit, key: NoiseKey(seed: 0), channels: 2, threads: 1)
        let uniform = UniformDequantizer(binCount: 256, range: .unit, key: NoiseKey(seed: 0))
        func blocks(_ d: some Dequantizer, frames: Int, preferred: Int) -> [DequantizationBlock] {
            let layout = StreamLayout(frames: frames, channels: 2)
            var out: [DequantizationBlock] = []
            var start = 0
            while start < frames {
                out.append(d.block(startingAt: start, of: layout, preferredFrames: preferred))
                start = out.last!.frames.upperBound
            }
            return out
        }
        for frames in [1, 1000, 16384 * 9 + 3] {
            let reference = blocks(variational, frames: frames, preferred: 65536)
            for preferred in [1, 7, 65536, 1 << 22] {
                for d in [variational as any Dequantizer, uniform] {
                    let b = blocks(d, frames: frames, preferred: preferred)
                    #expect(b.first!.frames.lowerBound == 0 && b.last!.frames.upperBound == frames)
                    #expect(zip(b, b.dropFirst()).allSatisfy { $0.frames.upperBound == $1.frames.lowerBound
                        && $0.codeFrames.lowerBound <= $1.codeFrames.lowerBound && $0.codeFrames.upperBound <= $1.codeFrames.upperBound
                        && $1.codeFrames.lowerBound <= $0.codeFrames.upperBound })
                    #expect(b.allSatisfy { $0.firstIndex == 2 * $0.frames.lowerBound && $0.sampleCount == 2 * $0.frames.count })
                }
                #expect(blocks(variational, frames: frames, preferred: preferred) == reference)
            }
        }
    }

    /// A sink's failure stops the stream with that error (the writer thread's first error).
    @Test func aFailingSinkStopsTheStream() throws {
        struct Stop: Error {}
        let signal = try readBins(fixture("stereo.wav"))
        let reader = try CodeReader(path: fixture("stereo.wav"))
        var calls = 0
        #expect(throws: Stop.self) {
            try DequantizingStream.run(reader, dequantizer: Self.uniform(signal, range: .unit, threads: 1), as: Float.self,
                                       preferredFrames: 1000) { _ in
                calls += 1
                if calls == 3 { throw Stop() }
            }
        }
        #expect(calls >= 3 && calls <= 5, "the loop stops within the two blocks in flight: \(calls) sink calls")
    }
}
