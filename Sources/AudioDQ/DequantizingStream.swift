import Foundation
import Synchronization
import SoundFileIO
import DiscreteAudio
import Dequantization

/// The one streaming loop of audiodq: codes read from a `CodeReader`, dequantized block by
/// block by any `Dequantizer` (uniform or variational), handed to a sink (`convert` writes them,
/// `report` analyses them).
///
/// For each block (from frame 0, as the dequantizer cuts them): the codes of `codeFrames` are
/// assembled from the previous block's overlap plus new reads (each code is read once, in
/// order), the dequantizer fills the values (and log q), the sink takes them. The sink of block
/// k runs on a writer thread while block k + 1 is read and dequantized (two slots of buffers,
/// sinks in block order); a stream of one block runs on the caller's thread alone. Buffers grow
/// to the largest block and are reused: no allocation per block once they have.
///
/// Invariant: the bytes a sink sees depend only on the dequantizer and the stream, not on the
/// chunk size or thread count (the dequantizer's contract), and a failure of the reader, the
/// dequantizer or the sink stops the stream with that error (the first one, for the sink).
enum DequantizingStream {
    /// What one block hands to the sink: its produced frames' codes, values and (for learned
    /// noise) log q, all interleaved and `block.sampleCount` long; valid during the sink call.
    struct Output<Value> {
        let block: DequantizationBlock
        let codes: UnsafeBufferPointer<UInt32>
        let values: UnsafeBufferPointer<Value>
        let logQ: UnsafeBufferPointer<Float>?
    }

    /// Runs the stream of `reader` through `dequantizer` into `sink`. `preferredFrames` (> 0):
    /// the block size for dequantizers without their own grid (uniform), clipped to the file.
    static func run<D: Dequantizer, Value: DequantizedValue>(
        _ reader: CodeReader, dequantizer: D, as: Value.Type, preferredFrames: Int,
        sink: (Output<Value>) throws -> Void
    ) throws {
        let layout = StreamLayout(frames: Int(reader.info.frames), channels: reader.info.channels)
        guard layout.frames > 0 else { return }
        var block = dequantizer.block(startingAt: 0, of: layout, preferredFrames: preferredFrames)
        // a writer thread pays only when there is more than one block to overlap
        let slots = block.frames.upperBound < layout.frames ? 2 : 1
        let pool = (0..<slots).map { _ in Slot<Value>() }
        let free = DispatchSemaphore(value: slots)
        let writer = DispatchQueue(label: "audiodq.writer")
        let failure = Mutex<Error?>(nil)
        var held = 0..<0            // frames of codes in `previous`
        var previous: Slot<Value>?
        var k = 0
        try withoutActuallyEscaping(sink) { sink in
            let box = UncheckedBox(sink)
            defer { writer.sync {} }
            while true {
                free.wait()
                if let e = failure.withLock({ $0 }) { free.signal(); throw e }
                let slot = pool[k % slots]
                do {
                    slot.reserve(codes: block.codeCount, values: block.sampleCount,
                                 logQ: dequantizer.producesLogQ ? block.sampleCount : 0)
                    try assemble(block, into: slot, previous: previous, held: held, reader: reader)
                    try dequantizer.dequantize(block, codes: UnsafeBufferPointer(rebasing: slot.codes[0..<block.codeCount]),
                                               into: UnsafeMutableBufferPointer(rebasing: slot.values[0..<block.sampleCount]),
                                               logQ: dequantizer.producesLogQ ? UnsafeMutableBufferPointer(rebasing: slot.logQ[0..<block.sampleCount]) : nil)
                } catch {
                    free.signal()
                    throw error
                }
                let n = block.sampleCount
                let output = UncheckedBox(Output(block: block,
                                                 codes: UnsafeBufferPointer(rebasing: slot.codes[block.coreOffset..<(block.coreOffset + n)]),
                                                 values: UnsafeBufferPointer(rebasing: slot.values[0..<n]),
                                                 logQ: dequantizer.producesLogQ ? UnsafeBufferPointer(rebasing: slot.logQ[0..<n]) : nil))
                if slots == 1 {
                    defer { free.signal() }
                    try box.value(output.value)
                } else {
                    writer.async {
                        do { try box.value(output.value) } catch { failure.withLock { $0 = $0 ?? error } }
                        free.signal()
                    }
                }
                held = block.codeFrames
                previous = slot
                k += 1
                if block.frames.upperBound >= layout.frames { break }
                block = dequantizer.block(startingAt: block.frames.upperBound, of: layout, preferredFrames: preferredFrames)
            }
            writer.sync {}
            if let e = failure.withLock({ $0 }) { throw e }
        }
    }

    /// Puts the codes of `block.codeFrames` into `slot.codes`: the frames shared with the previous
    /// block's codes (`held`, in `previous`) are copied, the rest read. The reader stands at
    /// `held.upperBound` (0 before the first block).
    private static func assemble<Value>(_ block: DequantizationBlock, into slot: Slot<Value>, previous: Slot<Value>?,
                                        held: Range<Int>, reader: CodeReader) throws {
        let ch = block.layout.channels
        let lo = block.codeFrames.lowerBound
        precondition(lo >= held.lowerBound && lo <= held.upperBound, "blocks must read their codes in order")
        var have = lo
        if let previous, held.upperBound > lo {
            slot.codes.baseAddress!.update(from: previous.codes.baseAddress! + (lo - held.lowerBound) * ch,
                                           count: (held.upperBound - lo) * ch)
            have = held.upperBound
        }
        while have < block.codeFrames.upperBound {
            let got: Int
            do {
                got = try reader.read(into: UnsafeMutableBufferPointer(rebasing: slot.codes[((have - lo) * ch)..<block.codeCount]))
            } catch { throw AudioDQError.soundFile(error) }
            if got == 0 {
                throw AudioDQError.soundFile(.truncated(path: reader.path, expectedFrames: Int64(block.layout.frames), gotFrames: Int64(have)))
            }
            have += got
        }
    }

    /// One set of buffers: codes, values and log q of one block in flight.
    private final class Slot<Value> {
        var codes = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 0)
        var values = UnsafeMutableBufferPointer<Value>.allocate(capacity: 0)
        var logQ = UnsafeMutableBufferPointer<Float>.allocate(capacity: 0)

        /// Grows the buffers to at least these counts (contents are not kept).
        func reserve(codes c: Int, values v: Int, logQ l: Int) {
            if codes.count < c { codes.deallocate(); codes = .allocate(capacity: c) }
            if values.count < v { values.deallocate(); values = .allocate(capacity: v) }
            if logQ.count < l { logQ.deallocate(); logQ = .allocate(capacity: l) }
        }

        deinit {
            codes.deallocate()
            values.deallocate()
            logQ.deallocate()
        }
    }

    /// `convert`'s sink: the values to `writer`, log q (when the dequantizer produces it) to a
    /// float32 `.f32` file at `logQOutput`. Returns Σ log q in nats (summed in Double, in sample
    /// order) for learned noise, nil for uniform.
    static func convert(_ reader: CodeReader, dequantizer: some Dequantizer, type: ValueType, chunkFrames: Int,
                        writer: ValueWriter, logQOutput: AtomicOutput?) throws -> Double? {
        let info = reader.info
        let logQWriter = try dequantizer.producesLogQ ? logQOutput.map {
            try ValueWriter(output: $0, format: .f32, type: .float32, frames: Int(info.frames), channels: info.channels,
                            sampleRate: info.sampleRate)
        } : nil
        var total = 0.0
        func write<Value: DequantizedValue>(_ output: Output<Value>) throws {
            try writer.write(values: output.values)
            if let logQ = output.logQ {
                for v in logQ { total += Double(v) }
                try logQWriter?.write(logQ)
            }
        }
        switch type {
        case .float32: try run(reader, dequantizer: dequantizer, as: Float.self, preferredFrames: chunkFrames, sink: write)
        case .float64: try run(reader, dequantizer: dequantizer, as: Double.self, preferredFrames: chunkFrames, sink: write)
        }
        try logQWriter?.close()
        return dequantizer.producesLogQ ? total : nil
    }

    /// The dequantizer `convert` and `report` use: variational with `model`'s q into `quantizer`'s
    /// cells (`VariationalDequantizer`; `DequantSettings.resolve` refused cells q was not trained
    /// in), uniform into them without (`CellDequantizer`: container cells give
    /// `UniformDequantizer`'s bytes).
    static func dequantizer(model: DequantModel?, quantizer: Quantizer, range: DequantRange, key: NoiseKey, channels: Int,
                            threads: Int) throws -> any Dequantizer {
        if let model {
            return try VariationalDequantizer(model: model, quantizer: quantizer, range: range, key: key, channels: channels,
                                              threads: threads)
        }
        var cells = CellDequantizer(quantizer: quantizer, range: range, key: key)
        cells.threads = threads
        return cells
    }
}

extension ValueWriter {
    /// Writes float32 or float64 values (the writer's type).
    func write<Value: DequantizedValue>(values: UnsafeBufferPointer<Value>) throws {
        if Value.self == Float.self {
            try write(UnsafeBufferPointer(start: UnsafeRawPointer(values.baseAddress)?.assumingMemoryBound(to: Float.self), count: values.count))
        } else {
            precondition(Value.self == Double.self)
            try write(UnsafeBufferPointer(start: UnsafeRawPointer(values.baseAddress)?.assumingMemoryBound(to: Double.self), count: values.count))
        }
    }
}
