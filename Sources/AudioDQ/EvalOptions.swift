/// What `EvalFrontend.run` is asked to do.
public struct EvalOptions: Sendable {
    /// Audio files, folders (recursive) or manifests.
    public var data: [String]
    /// The cells of each file (`QuantizerResolver`): `auto` detects them per file.
    public var quantizer: QuantizerChoice = .auto
    /// G.711 bytes: model the codes (`code`, as before) or amplitudes in the decision intervals.
    public var domain: ValueDomain = .code
    public var modelPath: String
    /// Importance samples for the IWBO (0: ELBO only).
    public var importanceSamples = 0
    /// Seed of the evaluation noise.
    public var seed: UInt64 = 0
    /// Refuse a model trained with another method (nil: any).
    public var method: DequantMethod?
    public var threads = 2

    public init(data: [String], modelPath: String) {
        self.data = data
        self.modelPath = modelPath
    }
}
