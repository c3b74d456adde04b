/// Formats for continuous (dequantized) samples, chosen by the output file's extension.
///
/// - `f32`, `f64`: raw little-endian IEEE floats, interleaved by frame, no header.
/// - `npy`: NumPy format 1.0, C order, shape (frames,) for mono and (frames, channels) otherwise.
/// - `wav`: IEEE float WAV (32- or 64-bit).
public enum ValueFormat: String, Sendable, CaseIterable, Codable {
    case f32, f64, npy, wav

    public init?(path: String) {
        guard let dot = path.lastIndex(of: "."), !path[dot...].contains("/") else { return nil }
        self.init(rawValue: path[path.index(after: dot)...].lowercased())
    }

    /// The element type a format forces, or nil when it can hold either.
    public var forcedType: ValueType? {
        switch self {
        case .f32: return .float32
        case .f64: return .float64
        case .npy, .wav: return nil
        }
    }

    public static let extensionsText = ".f32, .f64, .npy or .wav"
}

/// Element type of continuous output.
public enum ValueType: String, Sendable, CaseIterable, Codable {
    case float32, float64

    public var byteWidth: Int { self == .float32 ? 4 : 8 }
    /// NumPy dtype string.
    public var npyDescr: String { self == .float32 ? "<f4" : "<f8" }
}
