import ArgumentParser
import AudioDQ

// The command line spells the library's own enums: no mirror types in the CLI. Where a
// library name is not the one users type (`--q-base gaussian` is `.standardNormal`), the
// conformance maps the names both ways; `--help`, completion and usage errors list the CLI names.

/// `--format f32|f64|npy|wav` (the raw values).
extension ValueFormat: ExpressibleByArgument {}

/// `--range unit|symmetric` (the raw values).
extension DequantRange: ExpressibleByArgument {}

/// `--dtype float32|float64` (the raw values).
extension ValueType: ExpressibleByArgument {}

/// `--method uniform|variational` (the raw values).
extension DequantMethod: ExpressibleByArgument {}

/// `--lr-schedule constant|cosine` (the raw values).
extension LearningRateSchedule: ExpressibleByArgument {}

/// `--q-base gaussian|logistic`: `.standardNormal` and `.standardLogistic`.
extension BaseDistribution: ExpressibleByArgument {
    var argumentName: String {
        switch self {
        case .standardNormal: return "gaussian"
        case .standardLogistic: return "logistic"
        }
    }

    public init?(argument: String) {
        guard let value = Self.allCases.first(where: { $0.argumentName == argument }) else { return nil }
        self = value
    }

    public var defaultValueDescription: String { argumentName }
    public static var allValueStrings: [String] { allCases.map(\.argumentName) }
    /// None: the names are the descriptions (the default would pair them with the raw values).
    public static var allValueDescriptions: [String: String] { [:] }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

/// `--arch audiodq|reference` (the case names).
extension ArchitecturePreset: ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = Self.allCases.first(where: { "\($0)" == argument }) else { return nil }
        self = value
    }
}

/// `--quantizer auto|container|lattice:K|mulaw|alaw` (`QuantizerChoice`'s spellings).
extension QuantizerChoice: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
    public static var allValueStrings: [String] { ["auto", "container", "lattice:K", "mulaw", "alaw"] }
}

/// `--domain code|linear` (the raw values).
extension ValueDomain: ExpressibleByArgument {}
