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
///
/// **Averaged weights.** A model trained with a parameter average (`ParameterAverage`) stores
/// the averaged weights as its `flow.*` / `noise.*` arrays, so everything that loads the model
/// scores and dequantizes with them; the raw weights training continues from are kept as
/// `raw.flow.*` / `raw.noise.*`, with `average.count` (updates folded in) and `average.decay`
/// (the Float32 bit pattern of the decay cap) in the header.
///
/// **What it was trained on.** `encoding` is the first training file's. When the training data
/// was anything but container cells of that encoding, the header also holds the flow's input
/// scale (`FlowInput`) and the quantizers seen:
///
///     input.domain   0 code, 1 linear           input.scale   S (v = t/S)
///     input.law      code domain: the law's encoding index
///     trainedOn.Q.E  sequences trained on with quantizer Q (`QuantizerChoice` spelling:
///                    container, lattice:K, mulaw, alaw) in container encoding E (raw name)
///
/// A header without them (every model written before cells, and every model trained on
/// container cells only, byte for byte as before) means `FlowInput.container(encoding)` and
/// `trainedOn` = that encoding's container cells.
public final class DequantModel {
    public static let modelName = "audiodq.model"
    public let flow: WaveformFlow
    public let noise: NoiseFlow?
    public let encoding: SampleEncoding
    public let sampleRate: Int
    /// Training steps taken.
    public var step: Int
    /// The scale of the flow's input: what the model may be trained and evaluated on.
    public let input: FlowInput
    /// Sequences trained on per quantizer, keyed "Q.E" (see the type's header fields); empty
    /// for container cells of `encoding` only.
    public var trainedOn: [String: Int] = [:]

    public var method: DequantMethod { noise == nil ? .uniform : .variational }
    public var binCount: Int { encoding.binCount }

    /// Length granularity g: scored sequences are cut to a multiple of it. 2 × squeeze, as in the
    /// reference (the even/odd split of q times the squeeze of p; 16 for the reference models).
    public var lengthMultiple: Int { 2 * flow.configuration.squeeze }

    public init(flow: WaveformFlow.Configuration, noise: NoiseFlow.Configuration?, encoding: SampleEncoding,
                sampleRate: Int, seed: UInt64, input: FlowInput? = nil) throws {
        self.input = input ?? .container(encoding)
        self.flow = try WaveformFlow(configuration: flow, seed: seed)
        self.noise = try noise.map { try NoiseFlow(configuration: $0, seed: seed &+ 0x5EED) }
        self.encoding = encoding
        self.sampleRate = sampleRate
        self.step = 0
    }

    /// Every trainable parameter, p's first.
    public var parameters: [Parameter] { flow.parameters + (noise?.parameters ?? []) }

    /// The checkpoint array name of each of `parameters` ("flow." or "noise." + its name).
    var arrayNames: [String] { flow.parameters.map { "flow." + $0.name } + (noise?.parameters ?? []).map { "noise." + $0.name } }

    static let encodings: [SampleEncoding] = SampleEncoding.allCases

    /// The checkpoint of the model (and of `adam` and `average`, when given; `average` must be
    /// over `parameters`: its values become the model's arrays, the current ones `raw.*`).
    public func checkpoint(adam: Adam? = nil, average: ParameterAverage? = nil) -> Checkpoint {
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
        if input != .container(encoding) || !trainedOn.isEmpty {
            arch["input.domain"] = input.domain == .code ? 0 : 1
            arch["input.scale"] = input.scaleSize
            if let law = input.law { arch["input.law"] = Self.encodings.firstIndex(of: law)! }
            for (k, n) in trainedOn { arch["trainedOn." + k] = n }
        }
        if let average {
            precondition(average.parameters.count == parameters.count, "the average is not over this model's parameters")
            arch["average.count"] = average.count
            arch["average.decay"] = Int(average.decay.bitPattern)
            let index = Dictionary(uniqueKeysWithValues: arrayNames.enumerated().map { ($1, $0) })
            let averaged = average.values
            for (k, a) in arrays.enumerated() {
                guard let i = index[a.name] else { continue }   // the ActNorm flags are not weights
                arrays.append(.init(name: "raw." + a.name, shape: a.shape, values: a.values))
                arrays[k].values = averaged[i]
            }
        }
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

    /// Writes the model (and optimizer state) atomically; `flush`: durably (see `Checkpoint.write`).
    public func save(to path: String, adam: Adam? = nil, average: ParameterAverage? = nil, flush: Bool = true) throws {
        try checkpoint(adam: adam, average: average).write(to: path, flush: flush)
    }

    /// Reads a `.dqm`. Throws `DequantizationError.notAModel` for another kind of checkpoint and
    /// FlowEngine's errors for a damaged file (checksum, version) or mismatched arrays.
    public static func load(path: String) throws -> DequantModel {
        let c = try Checkpoint.read(from: path)
        return try DequantModel(checkpoint: c, path: path)
    }

    /// Largest architecture a model file may declare (and `train` may build): p's squeeze
    /// (2 to 64), flow steps (1 to 64), hidden channels (1 to 4096), odd kernel (1 to 31); q's
    /// coupling layers (1 to 64), hidden channels (1 to 4096), context levels (1 to 4).
    public enum Limits {
        public static let squeeze = 2...64
        public static let flowSteps = 1...64
        public static let hidden = 1...4096
        public static let kernelSize = 1...31
        public static let noiseLayers = 1...64
        public static let contextLevels = 1...4
        /// q's code-step scale: 0 (none) or K/2 ≤ 2^23.
        public static let codeSteps = 0...(1 << 23)
    }

    /// Rebuilds a model from its checkpoint. Every architecture field is checked before anything
    /// is allocated: its range (`Limits`), enum codes (method 0 uniform / 1 variational, noise.base
    /// 0 gaussian / 1 logistic; any other value is an error, never a default), and the file must
    /// hold at least the weights the architecture implies (p: steps·hidden²·kernelSize, q:
    /// layers·2·hidden²·3 of the middle convolutions), so a small file cannot declare a huge net.
    public convenience init(checkpoint c: Checkpoint, path: String) throws {
        guard c.model == Self.modelName else { throw DequantizationError.notAModel(path: path, found: c.model) }
        let a = c.architecture
        func need(_ k: String) throws -> Int {
            guard let v = a[k] else { throw DequantizationError.notAModel(path: path, found: "header without \(k)") }
            return v
        }
        func field(_ k: String, _ allowed: ClosedRange<Int>, default d: Int? = nil) throws -> Int {
            let v = try d.map { a[k] ?? $0 } ?? need(k)
            guard allowed.contains(v) else {
                throw DequantizationError.badModelField(path: path, field: k, value: v,
                                                        expected: "\(allowed.lowerBound) to \(allowed.upperBound)")
            }
            return v
        }
        func code(_ k: String, _ names: [String]) throws -> Int {
            let v = try need(k)
            guard names.indices.contains(v) else {
                throw DequantizationError.badModelField(path: path, field: k, value: v,
                                                        expected: names.enumerated().map { "\($0.offset) (\($0.element))" }.joined(separator: " or "))
            }
            return v
        }
        let fcfg = WaveformFlow.Configuration(squeeze: try field("flow.squeeze", Limits.squeeze),
                                              steps: try field("flow.steps", Limits.flowSteps),
                                              hidden: try field("flow.hidden", Limits.hidden),
                                              kernelSize: try field("flow.kernelSize", Limits.kernelSize))
        guard fcfg.kernelSize % 2 == 1 else {
            throw DequantizationError.badModelField(path: path, field: "flow.kernelSize", value: fcfg.kernelSize, expected: "an odd number")
        }
        let method = try code("method", DequantMethod.allCases.map(\.rawValue))
        var ncfg: NoiseFlow.Configuration?
        if method == 1 {
            let base = try code("noise.base", ["gaussian", "logistic"])
            ncfg = NoiseFlow.Configuration(layers: try field("noise.layers", Limits.noiseLayers),
                                           hidden: try field("noise.hidden", Limits.hidden),
                                           base: base == 0 ? .standardNormal : .standardLogistic,
                                           contextLevels: try field("noise.contextLevels", Limits.contextLevels, default: 1),
                                           codeSteps: try field("noise.codeSteps", Limits.codeSteps, default: 0))
        }
        let ei = try need("encoding")
        guard ei >= 0, ei < Self.encodings.count, Self.encodings[ei].binCount == (try need("binCount")) else {
            throw DequantizationError.notAModel(path: path, found: "encoding index \(ei) with K = \(a["binCount"] ?? -1)")
        }
        let rate = try field("sampleRate", 1...Int(Int32.max))
        var input = FlowInput.container(Self.encodings[ei])
        if a["input.domain"] != nil {
            let d = try code("input.domain", ValueDomain.allCases.map(\.rawValue))
            let scale = try field("input.scale", 2...(1 << 24))
            var law: SampleEncoding?
            if d == 0 {
                let l = try code("input.law", Self.encodings.map(\.rawValue))
                guard !Self.encodings[l].isLinear else {
                    throw DequantizationError.badModelField(path: path, field: "input.law", value: l, expected: "a G.711 encoding")
                }
                law = Self.encodings[l]
            }
            input = FlowInput(domain: ValueDomain.allCases[d], scaleSize: scale, law: law)
        }
        func held(_ prefix: String) -> Int {
            c.arrays.reduce(0) { $1.name.hasPrefix(prefix) ? $0 + $1.values.count : $0 }
        }
        let pWeights = fcfg.steps * fcfg.hidden * fcfg.hidden * fcfg.kernelSize
        let qWeights = ncfg.map { $0.layers * 2 * $0.hidden * $0.hidden * 3 } ?? 0
        guard pWeights <= held("flow."), qWeights <= held("noise.") else {
            throw DequantizationError.notAModel(path: path, found: "architecture \(c.architectureDescription) needs at least \(pWeights) weights of p and \(qWeights) of q; the file holds \(held("flow.")) and \(held("noise."))")
        }
        try self.init(flow: fcfg, noise: ncfg, encoding: Self.encodings[ei], sampleRate: rate, seed: 0, input: input)
        for (k, v) in a where k.hasPrefix("trainedOn.") { trainedOn[String(k.dropFirst("trainedOn.".count))] = v }
        step = try field("step", 0...Int.max)
        try flow.load(Self.sub(c, prefix: "flow.", template: flow.checkpoint()))
        if let noise { try noise.load(Self.sub(c, prefix: "noise.", template: noise.checkpoint())) }
        savedAdam = c.architecture["adamStep"].map { s in
            (s, c.arrays.filter { $0.name.hasPrefix("adam.m.") }.map(\.values), c.arrays.filter { $0.name.hasPrefix("adam.v.") }.map(\.values))
        }
        if let n = a["average.count"] {
            let bits = try field("average.decay", 0...Int(UInt32.max))
            let byName = Dictionary(c.arrays.filter { $0.name.hasPrefix("raw.") }.map { (String($0.name.dropFirst(4)), $0.values) },
                                    uniquingKeysWith: { first, _ in first })
            var raw: [[Float]] = []
            for (name, p) in zip(arrayNames, parameters) {
                guard let v = byName[name], v.count == p.count else {
                    throw DequantizationError.notAModel(path: path, found: "an averaged model without the raw weights of \(name)")
                }
                raw.append(v)
            }
            let decay = Float(bitPattern: UInt32(bits))
            guard decay >= 0, decay < 1 else {
                throw DequantizationError.badModelField(path: path, field: "average.decay", value: bits, expected: "the bits of a Float32 in [0, 1)")
            }
            guard n >= 0 else { throw DequantizationError.badModelField(path: path, field: "average.count", value: n, expected: "at least 0") }
            savedAverage = (n, decay, raw)
        }
    }

    /// Raw weights and average state read from an averaged model's file, for `--resume`: the
    /// model's parameters hold the averaged weights, `raw` (in `parameters` order) the ones
    /// training continues from.
    public private(set) var savedAverage: (count: Int, decay: Float, raw: [[Float]])?

    /// Optimizer state read from the file, for `--resume`.
    public private(set) var savedAdam: (step: Int, m: [[Float]], v: [[Float]])?

    static func sub(_ c: Checkpoint, prefix: String, template: Checkpoint) -> Checkpoint {
        Checkpoint(model: template.model, architecture: template.architecture,
                   arrays: c.arrays.filter { $0.name.hasPrefix(prefix) }.map {
                       .init(name: String($0.name.dropFirst(prefix.count)), shape: $0.shape, values: $0.values)
                   })
    }
}
