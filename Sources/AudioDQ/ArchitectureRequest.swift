/// The architecture settings (and the weight average) given explicitly to `audiodq train` (nil:
/// not given). A new model is built from the resolved `TrainOptions.flow`/`noise`; on `--resume`
/// the architecture and average are the checkpoint's, and every setting given here must equal
/// them (`conflicts(with:)`), so a flag is never silently ignored.
public struct ArchitectureRequest: Sendable, Equatable {
    public var flowSteps: Int?
    public var hidden: Int?
    public var squeeze: Int?
    public var preset: ArchitecturePreset?
    public var qBase: BaseDistribution?
    public var qLayers: Int?
    public var qHidden: Int?
    public var qContext: Int?
    public var qCodeSteps: Bool?
    /// `--average`: a resumed averaged model must have this decay (one without an average starts
    /// one at the resume).
    public var average: Float?

    public init() {}

    /// An architecture setting of `train` (`name`: how library messages call it).
    public enum Setting: String, Sendable, CaseIterable {
        case flowSteps = "flow steps", hidden, squeeze, qBase = "q base", qLayers = "q layers"
        case qHidden = "q hidden", qContext = "q context", qCodeSteps = "q code steps", preset
        case average = "average decay"
        public var name: String { rawValue }
        /// What a resumed model keeps of this setting, for messages.
        public var keptAs: String { self == .average ? "weight average" : "architecture" }
    }

    /// One setting that differs from a model: the value given and the model's (numbers; base
    /// names; "on"/"off" for q's code steps; for the preset, the preset's name given and "q"
    /// for the model's, which has other q settings than the preset implies).
    public struct Conflict: Sendable, Equatable {
        public var setting: Setting
        public var given: String
        public var model: String
    }

    /// The first given setting that `model` does not have, or nil. q's settings count only for a
    /// model with q (as when training from scratch, where a uniform model has none). The preset
    /// stands for the q settings it implies that are not given themselves.
    public func conflicts(with model: DequantModel) -> Conflict? {
        let p = model.flow.configuration
        func number(_ setting: Setting, _ given: Int?, _ has: Int) -> Conflict? {
            guard let given, given != has else { return nil }
            return Conflict(setting: setting, given: "\(given)", model: "\(has)")
        }
        var found = [number(.flowSteps, flowSteps, p.steps), number(.hidden, hidden, p.hidden),
                     number(.squeeze, squeeze, p.squeeze)]
        if let q = model.noise?.configuration {
            if let qBase, qBase != q.base {
                found.append(Conflict(setting: .qBase, given: Self.name(qBase), model: Self.name(q.base)))
            }
            found += [number(.qLayers, qLayers, q.layers), number(.qHidden, qHidden, q.hidden),
                      number(.qContext, qContext, q.contextLevels)]
            let steps = q.codeSteps > 0
            if let qCodeSteps, qCodeSteps != steps {
                found.append(Conflict(setting: .qCodeSteps, given: Self.onOff(qCodeSteps), model: Self.onOff(steps)))
            }
            if let preset {
                // the preset's q, as far as the settings above do not set it themselves
                let implied = preset.noise
                let same = (qBase != nil || implied.base == q.base) && (qLayers != nil || implied.layers == q.layers)
                    && (qHidden != nil || implied.hidden == q.hidden) && (qCodeSteps != nil || preset.codeSteps == steps)
                if !same { found.append(Conflict(setting: .preset, given: Self.name(preset), model: "q")) }
            }
        }
        if let average, let saved = model.savedAverage, average != saved.decay {
            found.append(Conflict(setting: .average, given: "\(average)", model: "\(saved.decay)"))
        }
        return found.lazy.compactMap { $0 }.first
    }

    static func onOff(_ on: Bool) -> String { on ? "on" : "off" }
    static func name(_ b: BaseDistribution) -> String { b == .standardNormal ? "gaussian" : "logistic" }
    static func name(_ p: ArchitecturePreset) -> String { p == .reference ? "reference" : "audiodq" }
}
