import DiscreteAudio
import FlowEngine

/// How the noise u is drawn during training and evaluation.
public enum DequantMethod: String, Codable, Sendable, CaseIterable {
    /// u ~ U[0, 1): log q = 0.
    case uniform
    /// u ~ q(u | x), a conditional coupling flow (`NoiseFlow`) trained jointly with p.
    case variational
}

/// A trained model: the waveform flow p, the dequantizer q for `variational`, and what data it is
/// for (encoding, K, sample rate). Stored as one FlowEngine checkpoint (`.dqm`): the arrays of p
/// prefixed `flow.`, of q prefixed `noise.`, optionally the Adam state (`adam.m.*`, `adam.v.*`),
/// and an architecture header with every setting (`flow.*`, `noise.*`, `binCount`, `encoding`,
/// `sampleRate`, `method`, `step`, `adamStep`).
public final class DequantModel {
    public static let modelName = "audiodq.model"
    public let flow: WaveformFlow
    public let noise: NoiseFlow?
    public let encoding: SampleEncoding
    public let sampleRate: Int
    /// Training steps taken.
    public var step: Int

    public var method: DequantMethod { noise == nil ? .uniform : .variational }
    public var binCount: Int { encoding.binCount }

    /// Length granularity g: scored sequences are cut to a multiple of it. 2 × squeeze, as in the
    /// reference (the even/odd split of q times the squeeze of p; 16 for the reference models).
    public var lengthMultiple: Int { 2 * flow.configuration.squeeze }

    public init(flow: WaveformFlow.Configuration, noise: NoiseFlow.Configuration?, encoding: SampleEncoding,
                sampleRate: Int, seed: UInt64) throws {
        self.flow = try WaveformFlow(configuration: flow, seed: seed)
        self.noise = try noise.map { try NoiseFlow(configuration: $0, seed: seed &+ 0x5EED) }
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.step = 0
    }

    /// Every trainable parameter, p's first.
    public var parameters: [Parameter] { flow.parameters + (noise?.parameters ?? []) }

    static let encodings: [SampleEncoding] = SampleEncoding.allCases

    /// The checkpoint of the model (and of `adam`, when given).
    public func checkpoint(adam: Adam? = nil) -> Checkpoint {
        let fc = flow.checkpoint()
        var arch: [String: Int] = [:]
        for (k, v) in fc.architecture { arch["flow." + k] = v }
        var arrays = fc.arrays.map { Checkpoint.NamedArray(name: "flow." + $0.name, shape: $0.shape, values: $0.values) }
        if let noise {
            let nc = noise.checkpoint()
            for (k, v) in nc.architecture { arch["noise." + k] = v }
            arrays += nc.arrays.map { Checkpoint.NamedArray(name: "noise." + $0.name, shape: $0.shape, values: $0.values) }
        }
        arch["binCount"] = binCount
        arch["encoding"] = Self.encodings.firstIndex(of: encoding)!
        arch["sampleRate"] = sampleRate
        arch["method"] = method == .uniform ? 0 : 1
        arch["step"] = step
        if let adam {
            arch["adamStep"] = adam.stepCount
            let (m, v) = adam.moments
            for (i, p) in adam.parameters.enumerated() {
                arrays.append(.init(name: "adam.m." + p.name + ".\(i)", shape: [p.count], values: m[i]))
                arrays.append(.init(name: "adam.v." + p.name + ".\(i)", shape: [p.count], values: v[i]))
            }
        }
        return Checkpoint(model: Self.modelName, architecture: arch, arrays: arrays)
    }

    /// Writes the model (and optimizer state) atomically.
    public func save(to path: String, adam: Adam? = nil) throws {
        try checkpoint(adam: adam).write(to: path)
    }

    /// Reads a `.dqm`. Throws `DequantizationError.notAModel` for another kind of checkpoint and
    /// FlowEngine's errors for a damaged file (checksum, version) or mismatched arrays.
    public static func load(path: String) throws -> DequantModel {
        let c = try Checkpoint.read(from: path)
        return try DequantModel(checkpoint: c, path: path)
    }

    public convenience init(checkpoint c: Checkpoint, path: String) throws {
        guard c.model == Self.modelName else { throw DequantizationError.notAModel(path: path, found: c.model) }
        let a = c.architecture
        func need(_ k: String) throws -> Int {
            guard let v = a[k] else { throw DequantizationError.notAModel(path: path, found: "header without \(k)") }
            return v
        }
        let fcfg = WaveformFlow.Configuration(squeeze: try need("flow.squeeze"), steps: try need("flow.steps"),
                                              hidden: try need("flow.hidden"), kernelSize: try need("flow.kernelSize"))
        let method = try need("method")
        var ncfg: NoiseFlow.Configuration?
        if method == 1 {
            ncfg = NoiseFlow.Configuration(layers: try need("noise.layers"), hidden: try need("noise.hidden"),
                                           base: try need("noise.base") == 0 ? .standardNormal : .standardLogistic,
                                           contextLevels: a["noise.contextLevels"] ?? 1,
                                           codeSteps: a["noise.codeSteps"] ?? 0)
        }
        let ei = try need("encoding")
        guard ei >= 0, ei < Self.encodings.count, Self.encodings[ei].binCount == (try need("binCount")) else {
            throw DequantizationError.notAModel(path: path, found: "encoding index \(ei) with K = \(a["binCount"] ?? -1)")
        }
        let rate = try need("sampleRate")
        guard rate > 0, fcfg.squeeze > 0, fcfg.steps > 0, fcfg.hidden > 0, fcfg.kernelSize > 0, fcfg.squeeze <= 64,
              fcfg.steps <= 64, fcfg.hidden <= 4096, fcfg.kernelSize <= 31 else {
            throw DequantizationError.notAModel(path: path, found: "architecture out of range: \(c.architectureDescription)")
        }
        try self.init(flow: fcfg, noise: ncfg, encoding: Self.encodings[ei], sampleRate: rate, seed: 0)
        step = try need("step")
        try flow.load(Self.sub(c, prefix: "flow.", template: flow.checkpoint()))
        if let noise { try noise.load(Self.sub(c, prefix: "noise.", template: noise.checkpoint())) }
        savedAdam = c.architecture["adamStep"].map { s in
            (s, c.arrays.filter { $0.name.hasPrefix("adam.m.") }.map(\.values), c.arrays.filter { $0.name.hasPrefix("adam.v.") }.map(\.values))
        }
    }

    /// Optimizer state read from the file, for `--resume`.
    public private(set) var savedAdam: (step: Int, m: [[Float]], v: [[Float]])?

    static func sub(_ c: Checkpoint, prefix: String, template: Checkpoint) -> Checkpoint {
        Checkpoint(model: template.model, architecture: template.architecture,
                   arrays: c.arrays.filter { $0.name.hasPrefix(prefix) }.map {
                       .init(name: String($0.name.dropFirst(prefix.count)), shape: $0.shape, values: $0.values)
                   })
    }
}
