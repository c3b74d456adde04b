import DiscreteAudio
import SoundFileIO

/// What `audiodq restore` does: continuous values back to the exact source codes.
///
/// Each value is decoded with the sidecar's rule through its quantizer's cells (`CellDecoder`:
/// the cell holding y gives the stored code bit for bit; container cells when the sidecar has no
/// quantizer). Without a sidecar the cells are `quantizer`/`domain` (`QuantizerResolver`'s rule,
/// as `convert` spells them), container cells when neither is given: x = ⌊y·K⌋ (unit) or
/// ⌊y·K/2⌋ + K/2 (symmetric), which is the stored code only for values dequantized in one-code
/// cells. Cells given with a sidecar must be the sidecar's; a value that is
/// not finite or outside the range stops the run with an error naming its sample index, and no
/// output is left. The codes are written in the source's encoding, in the container that OUT's
/// extension names; 8-bit PCM goes into the container's own 8-bit flavour when it holds only the
/// other one (signed 8-bit into WAV as unsigned, unsigned into AU as signed: bin b is stored as
/// b or b − 128, the same 256 levels), and `Summary.encoding` says which was written.
public struct RestoreOptions: Sendable {
    public var input: String
    public var output: String
    public var force = false
    /// nil: INPUT + ".json".
    public var sidecarPath: String?
    /// Overrides for values without a sidecar. With a sidecar, `encoding` is the encoding
    /// written: the sidecar's cells with that encoding's codes
    /// (`SidecarQuantizer.quantizer(source:relabelledFor:)`), refused when it has no such cells.
    public var encoding: SampleEncoding?
    public var range: DequantRange?
    public var sampleRate: Int?
    public var channels: Int?
    /// The cells the values were dequantized into, for values without a sidecar (with one they
    /// must name the sidecar's cells): nil or `auto` leave them to the sidecar, container cells
    /// without one. `domain` picks G.711 cells in the linear domain (G.711 encodings only).
    public var quantizer: QuantizerChoice?
    public var domain: ValueDomain?
    public var chunkValues = 1 << 16

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }
}

public enum Restorer {
    /// The output extensions `restore` knows, for messages.
    public static let containerExtensions = ".wav, .aiff, .au, .flac, .caf, .w64, .rf64, .sph, .sf, .voc, .8svx, .paf, .mat, .htk, .avr, .pvf, .wve or .raw"

    public struct Summary: Sendable {
        public var frames: Int
        public var channels: Int
        public var encoding: SampleEncoding
        public var container: AudioContainer
    }

    static func makeWriter(out: AtomicOutput, finalPath: String, container: AudioContainer,
                           encoding: SampleEncoding, sampleRate: Int, channels: Int) throws -> CodeWriter {
        do {
            return try CodeWriter(path: out.writePath, descriptor: out.descriptor, container: container, encoding: encoding,
                                  sampleRate: sampleRate, channels: channels)
        } catch {
            switch error {
            case .containerCannotHold:
                throw AudioDQError.soundFile(.containerCannotHold(path: finalPath, container: container.displayName,
                                                                  encoding: encoding.displayName))
            default:
                throw AudioDQError.cannotWrite(path: finalPath, reason: "\(error)")
            }
        }
    }

    /// The cells `quantizer`/`domain` name for codes of `encoding` (`QuantizerResolver`'s table),
    /// or nil when they leave the choice to the sidecar (`auto`, or nothing given; `--domain`
    /// changes nothing for linear PCM).
    static func givenQuantizer(_ options: RestoreOptions, encoding: SampleEncoding) throws -> Quantizer? {
        let choice = options.quantizer ?? .auto
        if choice == .auto && (encoding.isLinear || options.domain == nil) { return nil }
        return try QuantizerResolver.resolve(choice, domain: options.domain ?? .code, encoding: encoding, path: options.input) {
            preconditionFailure("auto on linear PCM is left to the sidecar")
        }.quantizer
    }

    @discardableResult
    public static func run(_ options: RestoreOptions) throws -> Summary {
        let scPath = options.sidecarPath ?? Sidecar.path(for: options.input)
        var sidecar: Sidecar?
        if FileSystem.exists(scPath) {
            sidecar = try Sidecar.load(path: scPath)
        } else if options.sidecarPath != nil || options.encoding == nil || options.range == nil {
            throw AudioDQError.missingSidecar(path: options.input, sidecar: scPath)
        }
        guard let container = AudioContainer(pathExtension: FileSystem.pathExtension(options.output)) else {
            throw AudioDQError.unknownOutputFormat(path: options.output, allowed: Restorer.containerExtensions)
        }
        // what the sidecar says was done (`Sidecar.resolved`: an old sidecar reads back with
        // container cells); without a sidecar, the overrides and container cells
        let resolved = try sidecar.map { sc throws in
            guard let r = sc.resolved else {
                throw AudioDQError.badSidecar(path: scPath, reason: "method '\(sc.dequantization.method)' or quantizer '\(sc.dequantization.quantizer?.name ?? "")' unknown to this version")
            }
            return r
        }
        let sourceEncoding = options.encoding ?? sidecar!.source.encoding
        let range = options.range ?? resolved!.range
        // the sidecar's cells; a given encoding keeps them (rebuilt for its codes), so a lattice
        // or linear-domain output is never decoded with one-code cells
        let given = try givenQuantizer(options, encoding: sourceEncoding)
        var quantizer = given ?? .container(sourceEncoding)
        if let recorded = sidecar?.dequantization.quantizer {
            guard let q = options.encoding == nil ? resolved?.quantizer : recorded.quantizer(source: sidecar!.source.encoding, relabelledFor: sourceEncoding) else {
                throw AudioDQError.mismatch(path: scPath, detail: "its quantizer \(recorded.name) cannot hold \(sourceEncoding.displayName) codes")
            }
            quantizer = q
        } else if sidecar != nil {
            quantizer = .container(sourceEncoding)
        }
        if sidecar != nil, let given, !given.hasSameCells(as: quantizer) {
            throw AudioDQError.contradictsSidecar(path: scPath, given: given.description, sidecar: quantizer.description)
        }
        let decoder = CellDecoder(quantizer: quantizer, range: range)
        guard let encoding = container.storedEncoding(for: sourceEncoding) else {
            throw AudioDQError.soundFile(.containerCannotHold(path: options.output, container: container.displayName,
                                                              encoding: sourceEncoding.displayName))
        }
        let reader = try ValueReader(path: options.input, channels: options.channels ?? sidecar?.source.channels)
        guard let channels = options.channels ?? reader.channels ?? sidecar?.source.channels else {
            throw AudioDQError.missingSidecar(path: options.input, sidecar: scPath)
        }
        if let rc = reader.channels, rc != channels {
            throw AudioDQError.mismatch(path: options.input, detail: "holds \(rc) channels, sidecar says \(channels)")
        }
        guard reader.count % channels == 0 else {
            throw AudioDQError.mismatch(path: options.input, detail: "\(reader.count) values are not whole frames of \(channels) channels")
        }
        if let s = sidecar, s.source.frames * s.source.channels != reader.count {
            throw AudioDQError.mismatch(path: options.input, detail: "holds \(reader.count) values, sidecar says \(s.source.frames) frames x \(s.source.channels) channels")
        }
        guard let rate = options.sampleRate ?? reader.sampleRate ?? sidecar?.source.sampleRate else {
            throw AudioDQError.missingSidecar(path: options.input, sidecar: scPath)
        }
        let out = try AtomicOutput(path: options.output, force: options.force, inputs: [options.input, scPath])
        let writer = try makeWriter(out: out, finalPath: options.output, container: container, encoding: encoding,
                                    sampleRate: rate, channels: channels)
        let chunk = max(channels, (options.chunkValues / channels) * channels)
        var values = [Double](repeating: 0, count: chunk)
        var bins = [UInt32](repeating: 0, count: chunk)
        var index = 0
        while true {
            let n = try values.withUnsafeMutableBufferPointer { try reader.read(into: $0) }
            if n == 0 { break }
            for i in 0..<n {
                guard let b = decoder.bin(of: values[i]) else {
                    let v = values[i]
                    throw AudioDQError.badValue(path: options.input, index: index + i, value: v,
                                                reason: v.isFinite ? "is outside the \(range.rawValue) range [\(Int(range.lowerBound)), 1)" : "is not finite")
                }
                bins[i] = b
            }
            do {
                try bins.withUnsafeBufferPointer { try writer.write(bins: UnsafeBufferPointer(rebasing: $0[0..<n])) }
            } catch {
                throw AudioDQError.cannotWrite(path: options.output, reason: "\(error)")
            }
            index += n
        }
        do { try writer.close() } catch { throw AudioDQError.cannotWrite(path: options.output, reason: "\(error)") }
        try out.commit()
        return Summary(frames: index / channels, channels: channels, encoding: encoding, container: container)
    }
}
