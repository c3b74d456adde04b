// dqbench: inner-loop benchmarks for Scripts/bench (release build). Prints one JSON line.
// Usage: dqbench uniform [samples] [rounds] | sha256 [bytes] [rounds] | read FILE | detect [samples] [rounds]
//        | cells [samples] [rounds] [set,set,...]
import AudioDQ
import Foundation

/// Thread CPU time: robust to other processes sharing the cores (wall time is not).
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

let args = CommandLine.arguments
let mode = args.count > 1 ? args[1] : "uniform"
let n = args.count > 2 ? Int(args[2]) ?? 0 : 10_000_000
let rounds = args.count > 3 ? Int(args[3]) ?? 7 : 7

switch mode {
case "uniform":
    // 16-bit codes with a speech-like spread, one thread, Float32 out, unit range.
    var bins = [UInt32](repeating: 0, count: n)
    var s: UInt64 = 1
    for i in 0..<n { s = s &* 6364136223846793005 &+ 1442695040888963407; bins[i] = UInt32(32768 &+ Int(Int16(truncatingIfNeeded: s >> 48)) / 8) }
    var out = [Float](repeating: 0, count: n)
    let deq = UniformDequantizer(binCount: 65536, range: .unit, key: NoiseKey(seed: 0))
    var best = Double.infinity
    for _ in 0..<rounds {
        let t0 = now()
        bins.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { deq.dequantize(bins: b, firstIndex: 0, into: $0) } }
        best = min(best, now() - t0)
    }
    var check = 0.0
    for i in stride(from: 0, to: n, by: 9973) { check += Double(out[i]) }
    print("{\"bench\":\"uniform-dequantize-f32\",\"samples\":\(n),\"threads\":1,\"best_s\":\(best),\"samples_per_s\":\(Double(n) / best),\"checksum\":\(check)}")
case "sha256":
    // SHA-256 of n bytes, one thread.
    let data = [UInt8](repeating: 0x5A, count: n)
    var best = Double.infinity
    var digest = ""
    for _ in 0..<rounds {
        let t0 = now()
        var s = SourceHash()
        data.withUnsafeBytes { s.update($0) }
        digest = s.finalizeHex()
        best = min(best, now() - t0)
    }
    print("{\"bench\":\"sha256\",\"bytes\":\(n),\"best_s\":\(best),\"bytes_per_s\":\(Double(n) / best),\"digest\":\"\(digest.prefix(16))\"}")
case "read":
    // Reading a file as bins (CodeReader), one thread: dqbench read FILE
    let path = args[2]
    var best = Double.infinity
    var total = 0
    for _ in 0..<5 {
        let t0 = now()
        let r = try! CodeReader(path: path)
        var buf = [UInt32](repeating: 0, count: 65536 * r.info.channels)
        total = 0
        while true {
            let f = try! buf.withUnsafeMutableBufferPointer { try r.read(into: $0) }
            if f == 0 { break }
            total += f
        }
        best = min(best, now() - t0)
    }
    print("{\"bench\":\"read\",\"frames\":\(total),\"best_s\":\(best),\"frames_per_s\":\(Double(total) / best)}")
case "detect":
    // QuantizerDetector pass over n Int16 samples (speech-like spread, one thread) vs memcpy of the
    // same bytes; detect() (the end-of-pass table scan) is timed separately.
    var x = [Int16](repeating: 0, count: n)
    var s: UInt64 = 1
    for i in 0..<n { s = s &* 6364136223846793005 &+ 1442695040888963407; x[i] = Int16(truncatingIfNeeded: Int(Int16(truncatingIfNeeded: s >> 48)) / 8) }
    var copy = [Int16](repeating: 1, count: n)
    var best = Double.infinity, bestCopy = Double.infinity, bestDecide = Double.infinity
    var decision = ""
    for _ in 0..<rounds {
        var d = try! QuantizerDetector(encoding: .pcm16)
        let t0 = now()
        x.withUnsafeBufferPointer { d.add($0) }
        let t1 = now()
        decision = try! d.detect().quantizer.description
        let t2 = now()
        x.withUnsafeBytes { src in copy.withUnsafeMutableBytes { dst in _ = memcpy(dst.baseAddress!, src.baseAddress!, src.count) } }
        let t3 = now()
        best = min(best, t1 - t0); bestDecide = min(bestDecide, t2 - t1); bestCopy = min(bestCopy, t3 - t2)
    }
    print("{\"bench\":\"detect-int16\",\"samples\":\(n),\"best_s\":\(best),\"samples_per_s\":\(Double(n) / best),\"bytes_per_s\":\(Double(2 * n) / best),\"detect_s\":\(bestDecide),\"memcpy_bytes_per_s\":\(Double(2 * n) / bestCopy),\"decision\":\"\(decision)\",\"check\":\(copy[n / 2])}")
case "cells":
    // CellDequantizer vs UniformDequantizer on the same n speech-like 16-bit samples, one thread,
    // unit range, Float32 and Float64 out: container cells (the uniform codes), a 2^8 lattice (the
    // codes with their low 8 bits cleared), mu-law cells in 16-bit (each code's mu-law level) and
    // the law's own bytes in the linear domain (`convert --domain linear` of a G.711 file: each
    // code's mu-law / A-law byte). An optional fourth argument names the sets to run (comma-separated).
    var s: UInt64 = 1
    let raw = (0..<n).map { _ -> Int in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Int(Int16(truncatingIfNeeded: s >> 48)) / 8
    }
    let lattice = try! Quantizer.lattice(.pcm16, stepLog2: 8)
    let mulaw = try! Quantizer.g711Linear(.ulaw, container: .pcm16)
    let mulawBytes = try! Quantizer.g711Linear(.ulaw, container: .ulaw)
    let alawBytes = try! Quantizer.g711Linear(.alaw, container: .alaw)
    let only = args.count > 4 ? Set(args[4].split(separator: ",").map(String.init)) : nil
    // each set's codes are computed only when it runs
    let sets: [(String, Quantizer, () -> [UInt32])] = [
        ("container", .container(.pcm16), { raw.map { UInt32($0 + 32768) } }),
        ("lattice8", lattice, { raw.map { UInt32(($0 + 32768) & ~255) } }),
        ("mulaw16", mulaw, { raw.map { UInt32(mulaw.bin(ofCell: mulaw.cell(ofPoint: $0))) } }),
        ("mulaw8", mulawBytes, { raw.map { UInt32(mulawBytes.bin(ofCell: mulawBytes.cell(ofPoint: $0))) } }),
        ("alaw8", alawBytes, { raw.map { UInt32(alawBytes.bin(ofCell: alawBytes.cell(ofPoint: $0))) } }),
    ].filter { only == nil || only!.contains($0.0) }
    let key = NoiseKey(seed: 0)
    let uniform = UniformDequantizer(binCount: 65536, range: .unit, key: key)
    var outF = [Float](repeating: 0, count: n)
    var outD = [Double](repeating: 0, count: n)
    func best(_ body: () -> Void) -> Double {
        var b = Double.infinity
        for _ in 0..<rounds { let t0 = now(); body(); b = min(b, now() - t0) }
        return b
    }
    var fields: [String] = []
    var bad = 0
    for (name, q, codes) in sets {
        let cells = CellDequantizer(quantizer: q, range: .unit, key: key)
        codes().withUnsafeBufferPointer { b in
            let uf = best { outF.withUnsafeMutableBufferPointer { uniform.dequantize(bins: b, firstIndex: 0, into: $0) } }
            let ud = best { outD.withUnsafeMutableBufferPointer { uniform.dequantize(bins: b, firstIndex: 0, into: $0) } }
            let cf = best { outF.withUnsafeMutableBufferPointer { if cells.dequantize(bins: b, firstIndex: 0, into: $0) != nil { bad += 1 } } }
            let cd = best { outD.withUnsafeMutableBufferPointer { if cells.dequantize(bins: b, firstIndex: 0, into: $0) != nil { bad += 1 } } }
            fields.append("\"\(name)\":{\"uniform_f32_samples_per_s\":\(Double(n) / uf),\"cells_f32_samples_per_s\":\(Double(n) / cf),"
                          + "\"uniform_f64_samples_per_s\":\(Double(n) / ud),\"cells_f64_samples_per_s\":\(Double(n) / cd),"
                          + "\"cells_over_uniform_f32\":\(uf / cf),\"cells_over_uniform_f64\":\(ud / cd)}")
        }
    }
    print("{\"bench\":\"cells-dequantize\",\"samples\":\(n),\"threads\":1,\"rounds\":\(rounds),\"off_quantizer_calls\":\(bad),\(fields.joined(separator: ","))}")
default:
    FileHandle.standardError.write(Data("dqbench: unknown mode \(mode)\n".utf8))
    exit(64)
}


