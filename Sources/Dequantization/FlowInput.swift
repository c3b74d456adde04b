import DiscreteAudio

/// The scale of the values the flow p models: what a model is trained on and may be evaluated on.
///
/// - `code` domain (G.711 bytes with one-code cells): v = (x + u)/256 − ½, x the law's
///   amplitude-ordered bin; `law` says which law (μ-law and A-law codes are different scales).
/// - `linear` domain (every other quantizer): v = t/S, t ∈ [−S/2, S/2) the dequantized point on
///   the quantizer's amplitude scale (`Quantizer.scaleSize`): S = K for linear PCM (whatever its
///   cells: container, lattice, G.711 levels in PCM), S = 65536 for G.711 bytes in the linear domain.
///   v is amplitude over full scale whatever S, so the linear domain is one scale: 8-bit PCM
///   (S = 256), the same audio on a 2^8 lattice in 16 bits (S = 65536) and G.711 in the linear
///   domain give the same v for the same amplitudes, each sample with its own cells' width term.
///
/// Two inputs are the same scale iff they are in the same domain and, in the code domain, of the
/// same law (`==`, `hash`). `scaleSize` does not take part: it is information (the S of the file
/// that made the input, recorded in a model file as `input.scale`; in the code domain it is the
/// law's K = 256 anyway). A model file without these fields (written before they existed) was
/// trained on container cells of its encoding: `container(_:)`.
public struct FlowInput: Sendable, Hashable, CustomStringConvertible {
    public let domain: ValueDomain
    /// S of the input's first file: v = t/S there (information, not compared).
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

    /// Same domain, and the same law in the code domain (S is not compared).
    public static func == (a: FlowInput, b: FlowInput) -> Bool {
        a.domain == b.domain && a.law == b.law
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(domain)
        hasher.combine(law)
    }

    /// Refuses data of another scale than the model's (`inputMismatch`, kind `.model`): the
    /// domain or the code-domain law differs.
    public static func requireSame(model: FlowInput, data: FlowInput, path: String) throws {
        guard model != data else { return }
        throw DequantizationError.inputMismatch(path: path, model: model, data: data)
    }
}
