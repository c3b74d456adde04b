/// Errors of the DiscreteAudio module.
public enum DiscreteAudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An encoding name that audiodq does not know.
    case unknownEncoding(String)
    /// A continuous value that does not decode to a bin: not finite, or outside the range.
    case valueOutsideRange(index: Int, value: Double, range: DequantRange)

    public var description: String {
        switch self {
        case .unknownEncoding(let name):
            return "unknown encoding '\(name)' (expected one of ulaw, alaw, u8, s8, s16, s24)"
        case .valueOutsideRange(let index, let value, let range):
            let what = value.isFinite ? "\(value) outside \(range.rawValue) range [\(range.lowerBound), 1)" : "non-finite value \(value)"
            return "sample \(index): \(what)"
        }
    }
}
