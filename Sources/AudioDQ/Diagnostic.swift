import FlowEngine
import SpectralDiagnostics

/// One error or warning as the front end reports it: its kind, the file it is about (when there
/// is one) and what is wrong with it. Built from any module's error by `init(_:)`, the one
/// classifier of the front end; the CLI renders it as one line and picks the exit code from
/// `kind`. `description` is the module error's own one-line text (`path: detail` when it names
/// a file). Library texts name no command-line flag; the CLI adds the hints.
public struct Diagnostic: Sendable, CustomStringConvertible {
    /// Whether the verb stopped or went on.
    public enum Severity: Sendable, Equatable {
        /// The verb failed with this error.
        case error
        /// The verb went on; `action` says what it did instead (e.g. "skipping").
        case warning(action: String)
        /// Information the user should see (e.g. the quantizer detected for a file).
        case note
    }

    public var severity: Severity
    public var kind: ErrorKind
    /// The file the error is about, when it names one.
    public var path: String?
    /// The problem, without the leading `path: `.
    public var detail: String
    /// The module error classified (the CLI chooses its hint from it).
    public var error: any Error

    /// Classifies `error`: every case of every audiodq module's error enum has one kind (the
    /// switches are exhaustive, so a new case must be given one); an error of another origin is
    /// `.io` with no path.
    public init(_ error: any Error, severity: Severity = .error) {
        self.severity = severity
        self.error = error
        let (kind, path) = Diagnostic.classify(error)
        self.kind = kind
        self.path = path
        let line = "\(error)"
        if let path, line.hasPrefix(path + ": ") {
            detail = String(line.dropFirst(path.count + 2))
        } else {
            detail = line
        }
    }

    public var description: String { "\(error)" }

    /// (kind, path) of an error of any module.
    static func classify(_ error: any Error) -> (ErrorKind, String?) {
        switch error {
        case let e as AudioDQError: return classify(e)
        case let e as SoundFileError: return classify(e)
        case let e as DequantizationError: return classify(e)
        case let e as FlowEngineError: return classify(e)
        case let e as SpectralDiagnosticsError: return classify(e)
        case let e as DiscreteAudioError: return classify(e)
        default: return (.io, nil)
        }
    }

    static func classify(_ e: AudioDQError) -> (ErrorKind, String?) {
        switch e {
        case .soundFile(let s): return classify(s)
        case .outputIsInput(let p), .outputExists(let p), .outputIsDirectory(let p): return (.output, p)
        case .sameOutput(let p, _, _): return (.output, p)
        case .outputDirectoryMissing(let p, _), .unknownOutputFormat(let p, _): return (.output, p)
        case .float32CannotHold(let p, _, _): return (.output, p)
        case .dtypeContradictsFormat(let p, _, _): return (.output, p)
        case .cannotWrite(let p, _), .cannotRead(let p, _): return (.io, p)
        case .sourceChanged(let p), .missingSidecar(let p, _), .mismatch(let p, _), .inputIsFolder(let p): return (.input, p)
        case .badSidecar(let p, _), .badValue(let p, _, _, _), .malformed(let p, _): return (.format, p)
        case .invalidArgument, .noAudioFiles, .noReadableAudio: return (.input, nil)
        case .modelRequired: return (.usage, nil)
        case .noModelToResume(let p), .chunkShorterThanModelContext(let p, _, _): return (.model, p)
        case .conflictsWithModel(let p, _, _, _), .contradictsSidecar(let p, _, _): return (.usage, p)
        case .quantizerDoesNotFit(let p, _, _), .quantizerInUse(let p, _): return (.input, p)
        case .mixedQuantizers: return (.input, nil)
        case .quantizerContradicted(let p, _, _, _, _, _): return (.input, p)
        }
    }

    static func classify(_ e: SoundFileError) -> (ErrorKind, String?) {
        switch e {
        case .notFound(let p), .isDirectory(let p), .emptyFile(let p): return (.input, p)
        case .alreadyContinuous(let p, _): return (.input, p)
        case .cannotOpen(let p, _), .unsupportedEncoding(let p, _), .unsupportedContainer(let p, _),
             .inconsistentHeader(let p, _), .headerlessWithoutFormat(let p): return (.format, p)
        case .partialFrame(let p, _, _), .truncated(let p, _, _): return (.format, p)
        case .readFailed(let p, _), .writeFailed(let p, _), .cannotCreate(let p, _): return (.io, p)
        case .containerCannotHold(let p, _, _): return (.output, p)
        case .invalidRawFormat: return (.usage, nil)
        }
    }

    static func classify(_ e: DequantizationError) -> (ErrorKind, String?) {
        switch e {
        case .notAModel(let p, _), .badModelField(let p, _, _, _): return (.model, p)
        case .binCountMismatch(let p, _, _), .wrongMethod(let p, _, _), .inputMismatch(let p, _, _): return (.model, p)
        case .noUsableData, .nonFiniteLoss: return (.model, nil)
        case .invalidHyperparameter: return (.usage, nil)
        case .codeOffQuantizer: return (.input, nil)
        case .cellsNotTrained(let p, _, _, _, _): return (.model, p)
        }
    }

    static func classify(_ e: FlowEngineError) -> (ErrorKind, String?) {
        switch e {
        case .checkpointIO(let p, _): return (.io, p)
        case .checkpointBadMagic(let p), .checkpointVersion(let p, _, _), .checkpointChecksum(let p, _, _),
             .checkpointMalformed(let p, _): return (.model, p)
        case .checkpointArchitecture, .checkpointArrayMismatch: return (.model, nil)
        case .sizeMismatch, .invalidShape, .invalidConfiguration, .backwardWithoutForward, .singularMatrix:
            return (.model, nil)
        case .libraryUnavailable: return (.io, nil)
        }
    }

    static func classify(_ e: SpectralDiagnosticsError) -> (ErrorKind, String?) {
        switch e {
        case .invalidConfig: return (.usage, nil)
        case .invalidSignal, .countMismatch: return (.input, nil)
        case .fftPlanFailed, .alreadyFinished, .encodingFailed: return (.io, nil)
        }
    }

    static func classify(_ e: DiscreteAudioError) -> (ErrorKind, String?) {
        switch e {
        case .needsLinearPCM, .latticeStepOutOfRange, .g711ContainerMismatch, .validBitsOutOfRange: return (.input, nil)
        }
    }
}
