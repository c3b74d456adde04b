import DiscreteAudio

/// The scale of the values the flow p models: what a model is trained on and may be evaluated on.
///
/// - `code` domain (G.711 bytes with one-code cells): v = (x + u)/256 − ½, x the law's
///   amplitude-ordered bin; `law` says which law (μ-law and A-law codes are different scales).
/// - `linear` domain (every other quantizer): v = t/S, t ∈ [−S/2, S/2) the dequantized point on
///   the quantizer's amplitude scale (`Quantizer.scaleSize`): S = K for linear PCM (whatever its
///   cells: container, lattice, G.711 levels in PCM), S = 65536 for G.711 bytes in the linear domain.
///   So μ-law bytes in the linear domain and 16-bit PCM holding expanded μ-law both give
///   v = (16-bit linear value)/65536, one scale.
///
/// Two inputs are the same scale iff they are equal. A model file without these fields (written
/// before they existed) was trained on container cells of its encoding: `container(_:)`.
public struct FlowInput: Sendable, Hashable, CustomStringConvertible {
    public let domain: ValueDomain
    /// S: v = t/S.
    public let scaleSize: Int
    /// The law of a code-domain input (nil in the linear domain).
    public let law: SampleEncoding?

    public init(domain: ValueDomain, scaleSize: Int, law: SampleEncoding?) {
        self.domain = domain
        self.scaleSize = scaleSize
        self.law = domain == .code ? law : nil
    }

    /// The input a quantizer's cells give the flow.
    public init(_ q: Quantizer) {
        if !q.encoding.isLinear, case .container = q.kind {
            self.init(domain: .code, scaleSize: q.scaleSize, law: q.encoding)
        } else {
            self.init(domain: .linear, scaleSize: q.scaleSize, law: nil)
        }
    }

    /// Container cells of `encoding` (what every model written before cells was trained on).
    public static func container(_ encoding: SampleEncoding) -> FlowInput { FlowInput(.container(encoding)) }

    /// "code domain of G.711 mu-law (K = 256)", "linear domain (S = 65536)".
    public var description: String {
        if let law { return "code domain of \(law.displayName) (K = \(scaleSize))" }
        return "linear domain (S = \(scaleSize))"
    }

    /// Refuses data of another scale than the model's: `binCountMismatch` when only S differs
    /// (same domain and law), `inputMismatch` when the domain or the law does. Both kind `.model`.
    public static func requireSame(model: FlowInput, data: FlowInput, path: String) throws {
        guard model != data else { return }
        if model.domain == data.domain && model.law == data.law {
            throw DequantizationError.binCountMismatch(path: path, model: model.scaleSize, data: data.scaleSize)
        }
        throw DequantizationError.inputMismatch(path: path, model: model, data: data)
    }
}
