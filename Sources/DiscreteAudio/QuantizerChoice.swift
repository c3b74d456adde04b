/// What the user asks for as the quantizer of a file (`--quantizer`), before it meets the file:
/// `auto` (the detected quantizer: `QuantizerDetector` for linear PCM, the container's codes for
/// G.711 bytes), `container` (cells one code wide), `lattice:K` (step 2^K, reduced bit depth in
/// linear PCM), `mulaw` / `alaw` (G.711 decision intervals: the law's bytes, or linear PCM holding
/// expanded values). The spellings are `description` and `init?(_:)`, each other's inverse.
public enum QuantizerChoice: Sendable, Hashable, CustomStringConvertible, LosslessStringConvertible {
    case auto
    case container
    case lattice(stepLog2: Int)
    case mulaw
    case alaw

    /// "auto", "container", "lattice:K" (1 ≤ K ≤ 23), "mulaw" (also "ulaw"), "alaw".
    public init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "container": self = .container
        case "mulaw", "ulaw": self = .mulaw
        case "alaw": self = .alaw
        default:
            guard text.hasPrefix("lattice:"), let k = Int(text.dropFirst("lattice:".count)), (1...23).contains(k) else { return nil }
            self = .lattice(stepLog2: k)
        }
    }

    /// The choice that names `q` exactly (never `auto`).
    public init(_ q: Quantizer) {
        switch q.kind {
        case .container: self = .container
        case .lattice(let k): self = .lattice(stepLog2: k)
        case .g711Linear(let law): self = law == .ulaw ? .mulaw : .alaw
        }
    }

    /// The quantizer this choice names for a container of `encoding`: nil for `auto` (only a
    /// file's codes decide it); `Quantizer`'s own refusals for a lattice or G.711 cells the
    /// container cannot hold.
    public func quantizer(_ encoding: SampleEncoding) throws(DiscreteAudioError) -> Quantizer? {
        switch self {
        case .auto: return nil
        case .container: return .container(encoding)
        case .lattice(let k): return try .lattice(encoding, stepLog2: k)
        case .mulaw: return try .g711Linear(.ulaw, container: encoding)
        case .alaw: return try .g711Linear(.alaw, container: encoding)
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .container: return "container"
        case .lattice(let k): return "lattice:\(k)"
        case .mulaw: return "mulaw"
        case .alaw: return "alaw"
        }
    }
}
