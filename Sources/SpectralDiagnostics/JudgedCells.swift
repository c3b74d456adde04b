import DiscreteAudio

/// The cells a report judged the values in, recorded when they are not the container's own codes
/// (`parameters.quantizer` in the JSON; absent for one-code cells, so those reports keep their
/// bytes). `kind`: "lattice" or "g711-linear"; `name`: the quantizer's exact description
/// (`Quantizer.description`, e.g. "lattice 2^8 (8 of 16 bits)"); `reason`: why these cells
/// ("asked for", the detector's reason, or where the sidecar's came from).
public struct JudgedCells: Codable, Sendable, Equatable {
    public var kind: String
    public var name: String
    public var reason: String

    /// The record of `q`'s cells, chosen for `reason`; nil for container cells.
    public init?(_ q: Quantizer, reason: String) {
        guard q.kind != .container else { return nil }
        kind = q.kind.name
        name = q.description
        self.reason = reason
    }

    /// "quantizer NAME: REASON", the wording `convert` announces its quantizer with.
    public var line: String { "quantizer \(name): \(reason)" }
}
