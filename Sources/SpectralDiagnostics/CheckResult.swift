/// The outcome of one named check on one channel.
///
/// `value` and `limit` are in the check's own unit (see `ChannelReport` for each check's formula);
/// `passed` is the computed outcome; `applies` is false when the check does not apply to the noise
/// kind (it is still computed and shown, but left out of the verdict and the alpha split).
/// A check passes when value ≤ limit, except `flatness`, which passes when value ≥ limit.
public struct CheckResult: Codable, Sendable, Equatable {
    /// Check names are an interface: `containment`, `uniformity`, `edge-mass`, `tonal-spur`,
    /// `block-spur`, `whiteness`, `coherence`, `flatness`.
    public var name: String
    public var passed: Bool
    public var value: Double
    public var limit: Double
    public var applies: Bool
    public var detail: String

    public init(name: String, passed: Bool, value: Double, limit: Double, applies: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.value = value
        self.limit = limit
        self.applies = applies
        self.detail = detail
    }

    /// All check names, in report order.
    public static let allNames = ["containment", "uniformity", "edge-mass", "tonal-spur", "block-spur",
                                  "whiteness", "coherence", "flatness"]
}
