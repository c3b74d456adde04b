/// The architecture presets of `audiodq train --arch`. Both use the reference's waveform flow p
/// (`WaveformFlow.Configuration()`: squeeze 8, 6 steps, 64 hidden channels); they differ in the
/// variational dequantizer q:
/// - `reference`: exactly the PyTorch reference's `Dequantizer` (Gaussian base, 4 couplings of 32
///   channels, conditioned on the codes), for comparisons;
/// - `audiodq` (the default): a standard-logistic base (u = sigmoid(ε) is exactly U(0, 1) before
///   training, so it starts level with uniform noise) and the code steps as two more condition
///   channels (`NoiseFlow.Configuration.codeSteps`), which measured a larger gain on held-out
///   8-bit PCM (README, "Held-out bits per sample").
///
/// They also differ in the weights a new model is saved with (`averageDecay`): the reference
/// protocol scores the last weights; `audiodq` keeps an exponential average of them
/// (`ParameterAverage`, decay cap 0.999, the Polyak averaging of Flow++), which removes the
/// noise of the last constant-rate Adam steps (README, "Training in true cells").
public enum ArchitecturePreset: Sendable, CaseIterable {
    case audiodq, reference

    /// q's configuration (without code steps: their scale, K/2, comes from the data).
    public var noise: NoiseFlow.Configuration {
        switch self {
        case .reference: return NoiseFlow.Configuration(layers: 4, hidden: 32, base: .standardNormal)
        case .audiodq: return NoiseFlow.Configuration(layers: 4, hidden: 32, base: .standardLogistic)
        }
    }

    /// Whether q sees the code steps.
    public var codeSteps: Bool { self == .audiodq }

    /// The weight average of a new model (nil: none, the last weights).
    public var averageDecay: Float? { self == .audiodq ? 0.999 : nil }
}
