// flowbench: training-step throughput of FlowEngine's WaveformFlow (forward + backward + Adam).
// Usage: flowbench [batch] [length] [steps] [threads] [workers]   (defaults 16 4096 30 2 1)
// threads = OpenBLAS threads; workers = FlowEngine threads over batch items (use threads 1 then).
import FlowEngine
import Foundation

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let batch = args.count > 0 ? args[0] : 16
let length = args.count > 1 ? args[1] : 4096
let steps = args.count > 2 ? args[2] : 30
let threads = args.count > 3 ? args[3] : 2
let workers = args.count > 4 ? args[4] : 1
BLAS.setThreads(threads)

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

do {
    let flow = try WaveformFlow(seed: 1)
    flow.workers = workers
    let adam = try Adam(parameters: flow.parameters)
    var rng = SplitMix64(seed: 2)
    var v = [Float](repeating: 0, count: batch * length)
    var logp = [Float](repeating: 0, count: batch)
    var dv = [Float](repeating: 0, count: batch * length)
    let dLogp = [Float](repeating: -1 / Float(batch * length) / Float(M_LN2), count: batch)
    var times: [Double] = []
    var fwdT: [Double] = [], bwdT: [Double] = [], optT: [Double] = []
    for _ in 0..<(steps + 5) {
        for i in v.indices { v[i] = Float(rng.nextUniform()) - 0.5 + 0.1 * Float(rng.nextGaussian()) }
        let t0 = now()
        flow.zeroGradients()
        try v.withUnsafeBufferPointer { vp in
            try logp.withUnsafeMutableBufferPointer { try flow.forward(vp.baseAddress!, batch: batch, length: length, logp: $0.baseAddress!) }
        }
        let t1 = now()
        try dLogp.withUnsafeBufferPointer { g in
            try dv.withUnsafeMutableBufferPointer { try flow.backward(dLogp: g.baseAddress!, inputGradient: $0.baseAddress!) }
        }
        let t2 = now()
        adam.step()
        let t3 = now()
        times.append(t3 - t0); fwdT.append(t1 - t0); bwdT.append(t2 - t1); optT.append(t3 - t2)
    }
    func med(_ a: [Double]) -> Double { let s = a.dropFirst(5).sorted(); return s[s.count / 2] }
    let m = med(times)
    let bits = -Double(logp.reduce(0, +)) / Double(batch * length) / M_LN2
    print(String(format: "batch %d x %d, %d timed steps, BLAS threads %d, workers %d", batch, length, steps, BLAS.threads, workers))
    print(String(format: "median step %.2f ms (forward %.2f, backward %.2f, adam %.2f); best %.2f ms",
                 m * 1e3, med(fwdT) * 1e3, med(bwdT) * 1e3, med(optT) * 1e3, times.dropFirst(5).min()! * 1e3))
    print(String(format: "%.2f steps/s, %.3f M samples/s (median); %.3f M samples/s (best)",
                 1 / m, Double(batch * length) / m / 1e6, Double(batch * length) / times.dropFirst(5).min()! / 1e6))
    print(String(format: "last loss %.4f bits/sample, parameters %d", bits, flow.parameterCount))
} catch {
    FileHandle.standardError.write("flowbench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
