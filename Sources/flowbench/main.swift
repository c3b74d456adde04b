// flowbench: training-step throughput of FlowEngine (release build), same protocol as the
// PyTorch reference: forward + backward + Adam per step, median over timed steps after warm-up.
//
// Usage: flowbench [--batch 16] [--length 4096] [--steps 20] [--rounds 3] [--variational]
//                  [--config BLAS_THREADS:WORKERS ...]   (default configs 1:2, 2:1, 1:1)
// BLAS_THREADS = OpenBLAS threads; WORKERS = FlowEngine threads over batch items.
// --variational adds the NoiseFlow dequantizer (K = 256 codes) to every step.
import FlowEngine
import Foundation

struct Options { var batch = 16, length = 4096, steps = 20, rounds = 3, variational = false }
var opt = Options()
var configs: [(Int, Int)] = []
var it = CommandLine.arguments.dropFirst().makeIterator()
while let a = it.next() {
    switch a {
    case "--batch": opt.batch = Int(it.next() ?? "") ?? opt.batch
    case "--length": opt.length = Int(it.next() ?? "") ?? opt.length
    case "--steps": opt.steps = Int(it.next() ?? "") ?? opt.steps
    case "--rounds": opt.rounds = Int(it.next() ?? "") ?? opt.rounds
    case "--variational": opt.variational = true
    case "--config":
        let p = (it.next() ?? "").split(separator: ":").compactMap { Int($0) }
        if p.count == 2 { configs.append((p[0], p[1])) }
    default:
        FileHandle.standardError.write("flowbench: unknown argument \(a)\n".data(using: .utf8)!)
        exit(2)
    }
}
if configs.isEmpty { configs = [(1, 2), (2, 1), (1, 1)] }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Process CPU time (all threads), seconds: under contention from other processes it still
/// measures the work done, which wall time does not.
func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

struct Result { var median: Double; var best: Double; var fwd: Double; var bwd: Double; var opt: Double; var bits: Double; var cpu: Double }

/// One round: fresh models, 5 warm-up steps, `steps` timed steps.
func round(_ options: Options, blasThreads: Int, workers: Int) throws -> Result {
    let batch = options.batch, length = options.length, steps = options.steps, variational = options.variational
    try! BLAS.ensureLoaded()
    BLAS.setThreads(blasThreads)
    let K: Float = 256
    let flow = try WaveformFlow(seed: 1)
    flow.workers = workers
    let deq = variational ? try NoiseFlow(seed: 3) : nil
    deq?.workers = workers
    let adam = try Adam(parameters: flow.parameters + (deq?.parameters ?? []))
    var rng = SplitMix64(seed: 2)
    let n = batch * length
    var codes = [Float](repeating: 0, count: n), cond = codes, u = codes, v = codes, dv = codes, eps = codes
    var logp = [Float](repeating: 0, count: batch), logq = logp
    let scale = -1 / (Float(n) * Float(M_LN2))          // d(loss in bits/sample)/d(log p)
    let dLogp = [Float](repeating: scale, count: batch)
    let dLogq = [Float](repeating: -scale, count: batch)
    var times: [Double] = [], fw: [Double] = [], bw: [Double] = [], op: [Double] = []
    var bits = 0.0
    var cpu: [Double] = []
    for _ in 0..<(steps + 5) {
        // A random-walk code sequence stands in for audio (data loading is not timed).
        for b in 0..<batch {
            var s = 128.0
            for t in 0..<length {
                s = min(255, max(0, s + 6 * rng.nextGaussian()))
                codes[b * length + t] = Float(Int(s))
            }
        }
        let c0 = cpuNow()
        let t0 = now()
        flow.zeroGradients()
        deq?.zeroGradients()
        if let deq {
            for i in 0..<n { cond[i] = codes[i] * (2 / K) - 1 }
            eps.withUnsafeMutableBufferPointer { deq.drawBaseNoise($0.baseAddress!, count: n, rng: &rng) }
            try deq.forward(eps: eps, condition: cond, batch: batch, length: length, u: &u, logq: &logq)
        } else {
            for i in 0..<n { u[i] = Float(rng.nextUniform()) }
        }
        for i in 0..<n { v[i] = (codes[i] + u[i]) / K - 0.5 }
        try flow.forward(v, batch: batch, length: length, logp: &logp)
        let t1 = now()
        try flow.backward(dLogp: dLogp, inputGradient: &dv)
        if let deq {
            for i in 0..<n { dv[i] /= K }                // dL/du = dL/dv / K
            try deq.backward(dU: dv, dLogq: dLogq)
        }
        let t2 = now()
        adam.step()
        let t3 = now()
        cpu.append(cpuNow() - c0)
        times.append(t3 - t0); fw.append(t1 - t0); bw.append(t2 - t1); op.append(t3 - t2)
        var elbo = 0.0
        for b in 0..<batch { elbo += Double(logp[b]) - Double(n / batch) * log(Double(K)) - (deq != nil ? Double(logq[b]) : 0) }
        bits = -elbo / Double(n) / M_LN2
    }
    func med(_ a: [Double]) -> Double { let s = a.dropFirst(5).sorted(); return s[s.count / 2] }
    return Result(median: med(times), best: times.dropFirst(5).min()!, fwd: med(fw), bwd: med(bw), opt: med(op), bits: bits, cpu: med(cpu))
}

do {
    let (batch, length, steps, rounds, variational) = (opt.batch, opt.length, opt.steps, opt.rounds, opt.variational)
    let n = Double(batch * length)
    print("flowbench: \(variational ? "variational" : "uniform") dequantization, batch \(batch) x \(length), "
          + "\(steps) timed steps after 5 warm-up, \(rounds) rounds per config")
    var summary: [String] = []
    for (threads, workers) in configs {
        var bestMedian = Double.infinity
        for r in 0..<rounds {
            let res = try round(opt, blasThreads: threads, workers: workers)
            bestMedian = min(bestMedian, res.median)
            print(String(format: "  blas %d workers %d round %d: median %.1f ms (fwd %.1f, bwd %.1f, adam %.2f), best %.1f ms, CPU %.1f ms/step -> %.3f M samples/s median, %.3f best; loss %.3f bits/sample",
                         threads, workers, r, res.median * 1e3, res.fwd * 1e3, res.bwd * 1e3, res.opt * 1e3, res.best * 1e3,
                         res.cpu * 1e3, n / res.median / 1e6, n / res.best / 1e6, res.bits))
        }
        summary.append(String(format: "blas %d workers %d: %.2f steps/s, %.3f M samples/s (best round median)",
                              threads, workers, 1 / bestMedian, n / bestMedian / 1e6))
    }
    for s in summary { print(s) }
} catch {
    FileHandle.standardError.write("flowbench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
