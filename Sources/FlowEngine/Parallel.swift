import Dispatch

/// Fork-join over a fixed number of workers (the batch items of a layer split in contiguous
/// chunks). With 1 worker the body runs inline on the caller's thread.
enum Parallel {
    static func run(_ workers: Int, _ body: @Sendable (Int) -> Void) {
        if workers <= 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers, execute: body)
        }
    }

    /// Splits items 0..<count into `workers` contiguous chunks run in parallel.
    static func forChunks(_ count: Int, workers: Int, _ body: @Sendable (Range<Int>) -> Void) {
        let w = max(1, min(workers, count))
        run(w) { i in body((i * count / w)..<((i + 1) * count / w)) }
    }
}
