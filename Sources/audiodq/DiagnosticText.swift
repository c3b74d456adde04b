import AudioDQ

/// How the CLI words a `Diagnostic`: the library's one line plus, for the errors a flag can
/// fix, a hint naming the flag. This is the one place where library error cases meet
/// command-line flags (library texts name none).
enum DiagnosticText {
    /// `audiodq: error: PATH: problem`, `audiodq: warning: ACTION PATH: problem` or
    /// `audiodq: note: PATH: what`.
    static func line(_ d: Diagnostic) -> String {
        switch d.severity {
        case .error: return "audiodq: error: " + message(d)
        case .warning(let action): return "audiodq: warning: \(action) " + message(d)
        case .note: return "audiodq: note: " + message(d)
        }
    }

    /// The library's text with the CLI's hint.
    static func message(_ d: Diagnostic) -> String {
        if case AudioDQError.conflictsWithModel(let path, let setting, let given, let model) = d.error {
            let name = flag(setting)
            let theirs = setting == .preset ? model : flag(setting, model)
            return "\(path): \(flag(setting, given)) differs from the model's \(theirs); a resumed model keeps its \(setting.keptAs) (leave \(name) out or give the model's value)"
        }
        return d.description + (hint(d.error) ?? "")
    }

    /// The text appended to an error's own line, when a flag can fix it.
    static func hint(_ error: any Error) -> String? {
        switch error {
        case AudioDQError.soundFile(let e): return hint(e)
        case AudioDQError.outputExists: return " (use --force to replace it)"
        case AudioDQError.float32CannotHold: return "; write .f64, or .npy/.wav with --dtype float64"
        case AudioDQError.missingSidecar: return "; pass --encoding and --range (and --rate/--channels for raw values)"
        case AudioDQError.inputIsFolder: return "; to convert a folder, give an output folder"
        case AudioDQError.noModelToResume: return " (--resume continues an existing model; leave it out to train a new one)"
        case AudioDQError.dtypeContradictsFormat: return " (--dtype)"
        case AudioDQError.contradictsSidecar: return " (leave --quantizer/--domain out, or give the sidecar's)"
        case AudioDQError.modelRequired: return " (--model)"
        case AudioDQError.chunkShorterThanModelContext: return "; raise --chunk-frames"
        case SoundFileError.partialFrame: return "; check --raw"
        case SoundFileError.headerlessWithoutFormat: return "; give --raw"
        case SoundFileError.invalidRawFormat: return " (--raw)"
        case DequantizationError.wrongMethod(_, let expected, _): return " (--method \(expected.rawValue))"
        case DequantizationError.cellsNotTrained:
            return "; give --quantizer/--domain for the model's cells, or use a model trained on these"
        case DequantizationError.invalidHyperparameter(let name, _, _):
            return " (" + name.split(separator: " ").map { $0 == "x" ? "x" : "--\($0)" }.joined(separator: " ") + ")"
        default: return nil
        }
    }

    /// The flag of a `train` architecture setting.
    static func flag(_ setting: ArchitectureRequest.Setting) -> String {
        switch setting {
        case .flowSteps: return "--flow-steps"
        case .hidden: return "--hidden"
        case .squeeze: return "--squeeze"
        case .qBase: return "--q-base"
        case .qLayers: return "--q-layers"
        case .qHidden: return "--q-hidden"
        case .qContext: return "--q-context"
        case .qCodeSteps: return "--q-code-steps"
        case .preset: return "--arch"
        case .average: return "--average"
        }
    }

    /// The flag with a value as `train` takes it ("--hidden 16"; "--no-q-code-steps" for off).
    static func flag(_ setting: ArchitectureRequest.Setting, _ value: String) -> String {
        if setting == .qCodeSteps { return value == "on" ? "--q-code-steps" : "--no-q-code-steps" }
        return "\(flag(setting)) \(value)"
    }
}
