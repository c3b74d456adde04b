/// Output of `WelchEstimator.result()`; all arrays have nperseg/2 + 1 entries.
struct WelchResult {
    var frequencyHz: [Double]
    var pAA: [Double]
    var pBB: [Double]
    var pSum: [Double]
    var crossRe: [Double]
    var crossIm: [Double]
    var coherence: [Double]
    var segments: Int
}
