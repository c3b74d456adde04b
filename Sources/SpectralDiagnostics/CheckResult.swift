/// The outcome of one named check on one channel.
///
/// `value` and `limit` are in the check's own unit (see `ChannelReport` for each check's formula);
/// `passed` is the computed outcome; `applies` is false when the check does not apply to the noise
/// kind (it is still computed and shown, but left out of the verdict and the alpha split).
/// A check passes when value ≤ limit, except `flatness`, which passes when value ≥ limit.
///
/// `skipped` (absent from the JSON when the check ran) gives the reason a check did not run: the
/// channel is too short for it (the minimum lengths are listed in REPORT_SCHEMA.md and on
/// `ChannelReportBuilder`). A skipped check has
/// `passed` false, `value` and `limit` 0, and is left out of the verdict.
public struct CheckResult: Codable, Sendable, Equatable {
    /// Check names are an interface: `containment`, `uniformity`, `edge-mass`, `tonal-spur`,
    /// `block-spur`, `whiteness`, `coherence`, `flatness`.
    public var name: String
    public var passed: Bool
    public var value: Double
    public var limit: Double
    public var applies: Bool
    public var detail: String
    /// Why the check did not run; nil when it ran.
    public var skipped: String?

    public init(name: String, passed: Bool, value: Double, limit: Double, applies: Bool, detail: String,
                skipped: String? = nil) {
        self.name = name
        self.passed = passed
        self.value = value
        self.limit = limit
        self.applies = applies
        self.detail = detail
        self.skipped = skipped
    }

    /// A check that did not run, with the reason (also its `detail`).
    public static func skipped(_ name: String, applies: Bool, reason: String) -> CheckResult {
        CheckResult(name: name, passed: false, value: 0, limit: 0, applies: applies, detail: reason, skipped: reason)
    }

    /// True when the check ran.
    public var ran: Bool { skipped == nil }

    /// True when the check counts against the verdict: it applies, ran and failed.
    public var failed: Bool { applies && ran && !passed }

    /// All check names, in report order.
    public static let allNames = ["containment", "uniformity", "edge-mass", "tonal-spur", "block-spur",
                                  "whiteness", "coherence", "flatness"]
}
