/// An exponential moving average of parameters (Polyak averaging), the weights a model is scored
/// and used with while training keeps moving the raw ones:
///
///     a_t = d_t · a_(t−1) + (1 − d_t) · w_t,    d_t = min(decay, (1 + t) / (10 + t))
///
/// t = 1, 2, … counts the updates folded in; a_1 = w_1 (d_1 = 2/11 would weight the step-0
/// initialisation, whose ActNorm scales are not yet set from data, so the first update copies).
/// The ramp (1 + t)/(10 + t) keeps the average over roughly the last t/9 updates until `decay`
/// caps it at a window of about 1/(1 − decay): a short run is not dominated by its early
/// weights, a long one averages a fixed window. Arithmetic is Float32 in a fixed order per
/// element, so the average is the same bytes for any thread count and after a resume.
public final class ParameterAverage {
    public let parameters: [Parameter]
    /// The cap d of the per-update decay, in [0, 1).
    public let decay: Float
    /// Updates folded in so far (t).
    public private(set) var count = 0
    private var average: [[Float]]

    public init(parameters: [Parameter], decay: Float) throws {
        guard decay >= 0, decay < 1 else {
            throw FlowEngineError.invalidConfiguration("average decay \(decay) is not in [0, 1)")
        }
        self.parameters = parameters
        self.decay = decay
        average = parameters.map(\.value)
    }

    /// The averaged values, one array per parameter in the order given at init (before the first
    /// update: the parameters' values then).
    public var values: [[Float]] { average }

    /// The decay d_t the next update uses (the type's formula).
    public var nextDecay: Float {
        let t = Float(count + 1)
        return min(decay, (1 + t) / (10 + t))
    }

    /// Folds the parameters' current values into the average.
    public func update() {
        let d = count == 0 ? 0 : nextDecay
        count += 1
        for (i, p) in parameters.enumerated() {
            p.value.withUnsafeBufferPointer { w in
                average[i].withUnsafeMutableBufferPointer { a in
                    for j in 0..<w.count { a[j] = d * a[j] + (1 - d) * w[j] }
                }
            }
        }
    }

    /// Restores an average saved from one over the same parameters.
    public func restore(count: Int, values: [[Float]]) throws {
        guard count >= 0, values.count == parameters.count,
              zip(values, parameters).allSatisfy({ $0.count == $1.count }) else {
            throw FlowEngineError.invalidConfiguration("parameter average does not match the parameters")
        }
        self.count = count
        average = values
    }
}
