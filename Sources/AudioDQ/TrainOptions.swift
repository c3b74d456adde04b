/// What `TrainFrontend.run` is asked to do: the data, the model file, the architecture of a new
/// model, the trainer's hyperparameters, and the loop's own settings (checkpoints, log, stop).
public struct TrainOptions: Sendable {
    public var data: [String]
    /// The cells of each file (`QuantizerResolver`): `auto` detects them per file.
    public var quantizer: QuantizerChoice = .auto
    /// G.711 bytes: model the codes (`code`, as before) or amplitudes in the decision intervals.
    public var domain: ValueDomain = .code
    public var modelPath: String
    public var method: DequantMethod = .uniform
    public var flow = WaveformFlow.Configuration()
    public var noise = NoiseFlow.Configuration()
    /// Give q the code steps (`NoiseFlow.Configuration.codeSteps` = K/2, K from the data).
    public var noiseCodeSteps = false
    public var hyperparameters = Trainer.Hyperparameters()
    /// Save a checkpoint every this many steps (0: only at the end and on a stop).
    public var checkpointEvery = 500
    /// Append one JSON line per step to this file.
    public var logPath: String?
    /// Continue training the model in `modelPath`, which must exist; its architecture is kept,
    /// and each setting in `given` must equal it.
    public var resume = false
    /// The architecture settings given explicitly (checked against the checkpoint on resume).
    public var given = ArchitectureRequest()
    public var force = false
    /// Asked once per step, before the update: true saves a checkpoint and returns a summary
    /// with `interrupted` set (the CLI answers from its SIGINT flag).
    public var stopRequested: @Sendable () -> Bool = { false }

    public init(data: [String], modelPath: String) {
        self.data = data
        self.modelPath = modelPath
    }
}
