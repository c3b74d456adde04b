import DiscreteAudio

/// `dequantization.quantizer` of a sidecar: the cells the codes were dequantized into
/// (`Quantizer`), as written and read back. Absent in sidecars written before quantizers
/// existed: those are `container` (cells one code wide).
///
/// `kind`: "container", "lattice" (step 2^`stepLog2` in container units) or "g711-linear" (the
/// decision intervals of `law` in the linear domain, on a scale of S = `scale` values: 65536 for
/// the law's own bytes, K for PCM holding the expanded values). `cells`: how many. `reason`: why
/// this quantizer ("asked for", or what detection found). The exact rule is the sidecar's
/// `dequantization.encode`/`decode` (`encodeRule`, `decodeRule`).
public struct SidecarQuantizer: Codable, Sendable, Equatable {
    public var kind: String
    public var stepLog2: Int?
    public var law: SampleEncoding?
    public var scale: Int
    public var cells: Int
    public var name: String
    public var reason: String?

    init(_ q: Quantizer, reason: String?) {
        (kind, stepLog2, law) = q.kind.recorded
        scale = q.scaleSize
        cells = q.cellCount
        name = q.description
        self.reason = reason
    }

    /// The quantizer recorded, for a source of `encoding`; nil when the record is not one this
    /// version can build.
    func quantizer(encoding: SampleEncoding) -> Quantizer? {
        ofKind(encoding).flatMap { $0.scaleSize == scale && $0.cellCount == cells ? $0 : nil }
    }

    /// The recorded cells with the codes of `encoding` (`restore --encoding` over a sidecar): the
    /// record must be exactly that of its `source` (`quantizer(encoding:)`); the same kind at the
    /// same scale S is then the same partition of [−S/2, S/2), its cells labelled with codes of
    /// `encoding`: the same cells, except that G.711 μ-law's −0 [−4, 0) and +0 [0, 4) are one
    /// cell [−4, 4) holding the value 0 in linear PCM (so both become PCM 0, as G.711 expansion
    /// does) and two cells in the law's bytes (PCM 0 is then split at 0). A-law cells are the
    /// same 256 in both. nil when `encoding` has no cells of that kind at that scale.
    func quantizer(source: SampleEncoding, relabelledFor encoding: SampleEncoding) -> Quantizer? {
        guard let own = quantizer(encoding: source) else { return nil }
        return ofKind(encoding).flatMap { $0.scaleSize == own.scaleSize ? $0 : nil }
    }

    /// The recorded kind built for a container of `encoding` (its own scale and cells).
    private func ofKind(_ encoding: SampleEncoding) -> Quantizer? {
        switch kind {
        case Quantizer.Kind.container.name: return .container(encoding)
        case Quantizer.Kind.lattice(stepLog2: 0).name: return stepLog2.flatMap { try? Quantizer.lattice(encoding, stepLog2: $0) }
        case Quantizer.Kind.g711Linear(law: .ulaw).name: return law.flatMap { try? Quantizer.g711Linear($0, container: encoding) }
        default: return nil
        }
    }

    /// `dequantization.encode`: y from the code's cell [lower, upper) on the scale
    /// [−S/2, S/2) and u ∈ [0, 1). Container cells keep the range's own formula (in K).
    static func encodeRule(_ q: Quantizer, range: DequantRange) -> String {
        if q.kind == .container { return range.encodeFormula }
        let t = "lower + u * (upper - lower)"
        let y = range == .unit ? "y = (\(t) + S/2) / S" : "y = (\(t)) / (S/2)"
        return "\(y), S = \(q.scaleSize), [lower, upper) the cell of the code (\(q.description))"
    }

    /// `dequantization.decode`: the stored code from y, exact at every cell boundary
    /// (`CellDecoder`), self-sufficient: a reader can implement it from the text alone. Container
    /// cells keep the range's own formula (in K). G.711 cells are named as `G711Cells` builds
    /// them: ITU-T G.711's decision intervals as half-open integer intervals [lower, upper) on the
    /// 16-bit scale, negative cells the mirror images [−hi, −lo) of the positive ones [lo, hi), so
    /// the code of a 16-bit integer w is what the ITU-T G.191 encoder (`ulaw_compress`,
    /// `alaw_compress`) gives for w (tested on every 16-bit integer). Encoders that treat negative
    /// values otherwise (libsndfile rounds |w|, Sun's `linear2ulaw` floors w/4) put some negative w
    /// in the next cell, so they are not this rule.
    static func decodeRule(_ q: Quantizer, range: DequantRange) -> String {
        let s = q.scaleSize
        let x = range == .unit ? "x = floor(y * \(s))" : "x = floor(y * \(s / 2)) + \(s / 2)"
        switch q.kind {
        case .container:
            return range.decodeFormula
        case .lattice(let k):
            return "\(x); code = x - x mod \(1 << k) (bin; value = code - \(s / 2))"
        case .g711Linear(let law):
            let name = law == .ulaw ? "mu-law" : "A-law"
            let encoder = law == .ulaw ? "ulaw_compress" : "alaw_compress"
            let zero = law == .ulaw ? ", -0 (0x7F) [-4, 0), +0 (0xFF) [0, 4)" : ""
            let cells = "the \(name) cells are ITU-T G.711's decision intervals as integer bounds [lower, upper) on the 16-bit scale "
                + "(audiodq G711Cells: positive [lo, hi), negative [-hi, -lo)\(zero)), so b = the ITU-T G.191 encoder \(encoder) of the 16-bit integer w"
            guard q.encoding.isLinear else {
                return "\(x); w = x - 32768; code = the \(name) byte b whose cell holds w (lower <= w < upper); \(cells)"
            }
            let m = s >> 16
            let w = m == 1 ? "w = x - \(s / 2)" : "w = floor((x - \(s / 2)) / \(m))"
            let merged = law == .ulaw ? "; both zero bytes give 0, one cell [\(-4 * m), \(4 * m))" : ""
            return "\(x); \(w); b = the \(name) byte whose cell holds w (lower <= w < upper); "
                + "code = \(s / 2) + \(m == 1 ? "" : "\(m) * ")level(b), level = b's G.711 decoded value on the 16-bit scale\(merged); \(cells)"
        }
    }
}

extension Quantizer.Kind {
    /// The kind as sidecars and `info` record it: its `name` and its one parameter.
    var recorded: (kind: String, stepLog2: Int?, law: SampleEncoding?) {
        switch self {
        case .container: return (name, nil, nil)
        case .lattice(let k): return (name, k, nil)
        case .g711Linear(let l): return (name, nil, l)
        }
    }
}
