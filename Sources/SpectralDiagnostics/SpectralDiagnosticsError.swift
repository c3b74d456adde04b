/// Errors of the SpectralDiagnostics module. Every case carries the figures needed to explain it.
public enum SpectralDiagnosticsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration field outside its valid range (`field`, the offending value, the rule).
    case invalidConfig(field: String, value: String, requirement: String)
    /// Sample rate not finite and positive, or bin count not a power of two ≥ 2.
    case invalidSignal(sampleRate: Double, binCount: Int)
    /// FFTW returned no plan for a real-to-complex transform of this length.
    case fftPlanFailed(length: Int)
    /// `finish()` was called twice on the same analyser, or `add` after `finish()`.
    case alreadyFinished
    /// An `add` call passed different numbers of codes and values (that piece was ignored).
    case countMismatch(codes: Int, values: Int)
    /// The report could not be encoded as JSON (the underlying error's description).
    case encodingFailed(String)

    public var description: String {
        switch self {
        case .invalidConfig(let field, let value, let requirement):
            return "invalid config \(field) = \(value): \(requirement)"
        case .invalidSignal(let fs, let k):
            return "invalid signal description: sample rate \(fs) Hz, \(k) bins (need fs > 0, K a power of two >= 2)"
        case .fftPlanFailed(let n):
            return "FFTW could not plan a real FFT of length \(n)"
        case .alreadyFinished:
            return "finish() already called on this analyser"
        case .countMismatch(let codes, let values):
            return "add() got \(codes) codes but \(values) values"
        case .encodingFailed(let why):
            return "report encoding failed: \(why)"
        }
    }
}
