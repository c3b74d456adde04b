/// The architecture settings given explicitly to `audiodq train` (nil: not given). A new model
/// is built from the resolved `TrainOptions.flow`/`noise`; on `--resume` the architecture is the
/// checkpoint's, and every setting given here must equal it (`conflicts(with:)`), so a flag is
/// never silently ignored.
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

    public init() {}

    /// One setting that differs from a model: the flag, as given (`--flow-steps 3`,
    /// `--no-q-code-steps`) and as the model has it (`--flow-steps 2`, `--q-code-steps`; for
    /// `--arch`, "q").
    public struct Conflict: Sendable, Equatable {
        public var flag: String
        public var given: String
        public var model: String
    }

    /// The first given setting that `model` does not have, or nil. q's settings count only for a
    /// model with q (as when training from scratch, where a uniform model has none). `--arch`
    /// stands for the q settings it implies that are not given themselves.
    public func conflicts(with model: DequantModel) -> Conflict? {
        let p = model.flow.configuration
        func number(_ flag: String, _ given: Int?, _ has: Int) -> Conflict? {
            guard let given, given != has else { return nil }
            return Conflict(flag: flag, given: "\(flag) \(given)", model: "\(flag) \(has)")
        }
        var found = [number("--flow-steps", flowSteps, p.steps), number("--hidden", hidden, p.hidden),
                     number("--squeeze", squeeze, p.squeeze)]
        if let q = model.noise?.configuration {
            if let qBase, qBase != q.base {
                found.append(Conflict(flag: "--q-base", given: "--q-base \(Self.name(qBase))", model: "--q-base \(Self.name(q.base))"))
            }
            found += [number("--q-layers", qLayers, q.layers), number("--q-hidden", qHidden, q.hidden),
                      number("--q-context", qContext, q.contextLevels)]
            let steps = q.codeSteps > 0
            if let qCodeSteps, qCodeSteps != steps {
                found.append(Conflict(flag: "--q-code-steps", given: Self.codeStepsFlag(qCodeSteps), model: Self.codeStepsFlag(steps)))
            }
            if let preset {
                // the preset's q, as far as the flags above do not set it themselves
                let implied = preset.noise
                let same = (qBase != nil || implied.base == q.base) && (qLayers != nil || implied.layers == q.layers)
                    && (qHidden != nil || implied.hidden == q.hidden) && (qCodeSteps != nil || preset.codeSteps == steps)
                if !same { found.append(Conflict(flag: "--arch", given: "--arch \(Self.name(preset))", model: "q")) }
            }
        }
        return found.lazy.compactMap { $0 }.first
    }

    static func codeStepsFlag(_ on: Bool) -> String { on ? "--q-code-steps" : "--no-q-code-steps" }
    static func name(_ b: BaseDistribution) -> String { b == .standardNormal ? "gaussian" : "logistic" }
    static func name(_ p: ArchitecturePreset) -> String { p == .reference ? "reference" : "audiodq" }
}
