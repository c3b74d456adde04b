/// Which values of G.711 audio the flow models (`--domain`):
/// - `code`: the law's codes as codes, v = (x + u)/256 − ½ (x the amplitude-ordered bin): the
///   companded scale, one-code-wide cells (today's behaviour).
/// - `linear`: amplitudes, v = t/65536 with t a point of the code's decision interval on the
///   16-bit linear scale (`Quantizer.g711Linear`).
/// Linear PCM codes are amplitudes already: for them both domains are the linear one.
public enum ValueDomain: String, Sendable, Hashable, CaseIterable, Codable {
    case code
    case linear
}
