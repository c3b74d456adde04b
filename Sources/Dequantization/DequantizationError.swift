import DiscreteAudio

/// Errors of the Dequantization module; each names the file or setting involved.
public enum DequantizationError: Error, Sendable, CustomStringConvertible {
    case notAModel(path: String, found: String)
    /// An architecture field of a model file outside what audiodq reads (`value` is what the
    /// file says, `expected` what it may say).
    case badModelField(path: String, field: String, value: Int, expected: String)
    /// Variational noise from a model of one-code cells of another K than the data's.
    case binCountMismatch(path: String, model: Int, data: Int)
    /// The model's input scale (`FlowInput`: the domain, and the law in the code domain) is not the data's.
    case inputMismatch(path: String, model: FlowInput, data: FlowInput)
    case noUsableData(reason: String)
    case nonFiniteLoss(step: Int, lastCheckpoint: String?)
    /// A model of another method than the one asked for.
    case wrongMethod(path: String, expected: DequantMethod, found: DequantMethod)
    /// A training setting outside what the trainer can run (`name` the setting, `value` as
    /// given, `requirement` what it must be).
    case invalidHyperparameter(name: String, value: String, requirement: String)
    /// A stored code (`bin`, at interleaved sample `index`) that `quantizer` cannot produce.
    case codeOffQuantizer(quantizer: String, index: Int, bin: Int)
    /// Variational noise asked for in cells (`quantizer`, chosen for `reason`) that the model's q
    /// was not trained in (`TrainedCells.fits`); `path` is the data, `model` the model file.
    case cellsNotTrained(path: String, model: String, trained: TrainedCells, quantizer: Quantizer, reason: String?)

    public var description: String {
        switch self {
        case .notAModel(let p, let f): return "\(p): not an audiodq model (\(f))"
        case .badModelField(let p, let f, let v, let e): return "\(p): bad model file: \(f) is \(v), expected \(e)"
        case .binCountMismatch(let p, let m, let d): return "\(p): model is for K = \(m), data has K = \(d)"
        case .inputMismatch(let p, let m, let d):
            return "\(p): model was trained in the \(m), data is in the \(d)"
        case .noUsableData(let r): return "no usable training data: \(r)"
        case .nonFiniteLoss(let s, let c):
            return "loss became non-finite at step \(s); stopped" + (c.map { ", last good checkpoint kept at \($0)" } ?? "")
        case .wrongMethod(let p, let e, let f):
            return "\(p): a \(f.rawValue)-dequantization model, where a \(e.rawValue) one is needed"
        case .invalidHyperparameter(let n, let v, let r): return "\(n) \(v): must be \(r)"
        case .codeOffQuantizer(let q, let i, let b): return "sample \(i): code bin \(b) is not one the quantizer \(q) produces"
        case .cellsNotTrained(let p, let m, let t, let q, let r):
            return "\(p): model \(m) was trained on \(t); this file's cells are \(TrainedCells.name(q))"
                + (r.map { " (\($0))" } ?? "") + " in the \(FlowInput(q))"
        }
    }
}
