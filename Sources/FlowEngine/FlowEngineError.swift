/// Errors of the FlowEngine module. Every case carries enough context to say what was wrong
/// without a debugger; `description` renders it as one line (`PATH: problem` for the cases
/// about a file).
public enum FlowEngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A buffer whose element count does not match the shape it was declared with.
    case sizeMismatch(what: String, expected: Int, actual: Int)
    /// A shape that an operation cannot take (e.g. time not a multiple of the squeeze factor).
    case invalidShape(what: String, reason: String)
    /// A configuration value outside its allowed range.
    case invalidConfiguration(String)
    /// `backward` was called without a matching `forward` on the same shape.
    case backwardWithoutForward(String)
    /// A matrix that cannot be factorised (exactly singular) where an inverse or log|det| is needed.
    case singularMatrix(String)
    /// Checkpoint file problems.
    case checkpointIO(path: String, reason: String)
    case checkpointBadMagic(path: String)
    case checkpointVersion(path: String, found: UInt32, supported: UInt32)
    case checkpointChecksum(path: String, stored: UInt32, computed: UInt32)
    case checkpointMalformed(path: String, reason: String)
    case checkpointArchitecture(expected: String, found: String)
    case checkpointArrayMismatch(name: String, reason: String)
    /// A shared library loaded on first use (OpenBLAS) could not be loaded.
    case libraryUnavailable(name: String, reason: String)

    public var description: String {
        switch self {
        case .sizeMismatch(let what, let expected, let actual):
            return "\(what): expected \(expected) elements, got \(actual)"
        case .invalidShape(let what, let reason):
            return "\(what): invalid shape (\(reason))"
        case .invalidConfiguration(let reason):
            return "invalid configuration: \(reason)"
        case .backwardWithoutForward(let what):
            return "\(what): backward called without a matching forward"
        case .singularMatrix(let what):
            return "\(what): matrix is singular"
        case .libraryUnavailable(let name, let reason):
            return "cannot load \(name): \(reason)"
        case .checkpointIO(let path, let reason):
            return "\(path): checkpoint: \(reason)"
        case .checkpointBadMagic(let path):
            return "\(path): not a FlowEngine checkpoint (bad magic bytes)"
        case .checkpointVersion(let path, let found, let supported):
            return "\(path): checkpoint format version \(found), this build reads version \(supported)"
        case .checkpointChecksum(let path, let stored, let computed):
            return "\(path): checkpoint CRC32 mismatch (stored \(hex(stored)), computed \(hex(computed))): file is corrupt"
        case .checkpointMalformed(let path, let reason):
            return "\(path): malformed checkpoint (\(reason))"
        case .checkpointArchitecture(let expected, let found):
            return "checkpoint architecture \(found) does not match the model's \(expected)"
        case .checkpointArrayMismatch(let name, let reason):
            return "checkpoint array '\(name)': \(reason)"
        }
    }
}

private func hex(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}
