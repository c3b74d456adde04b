import DiscreteAudio

/// Turns `--quantizer` and `--domain` into the cells of one file, the one place that rule lives.
///
/// | file | choice | domain `code` | domain `linear` |
/// |---|---|---|---|
/// | G.711 bytes | `auto`, its law | container (the codes) | the law's cells on the 16-bit linear scale |
/// | G.711 bytes | `container` | container | refused (the linear domain has no one-code cells) |
/// | linear PCM | `auto` | `QuantizerDetector`'s decision (with the header's valid bits) | same |
/// | linear PCM | `container`, `lattice:K`, `mulaw`, `alaw` | that quantizer, when every code is on it | same |
///
/// Linear PCM codes are amplitudes: `--domain` changes nothing for them. Anything else (the other
/// law, a lattice of G.711 bytes, G.711 cells in 8-bit PCM, a code off the quantizer asked for) is
/// `AudioDQError.quantizerDoesNotFit` naming the file.
public enum QuantizerResolver {
    /// The quantizer and one line saying why it was chosen, for a whole signal in memory
    /// (`train`/`eval`): the rule of `resolve(_:domain:encoding:path:detect:)` with the detector
    /// run over `signal`, and a quantizer asked for checked against every code. `declaredValidBits`:
    /// as `CodeReader.declaredValidBits` gives them (within 1...bits; others are an error).
    public static func resolve(_ choice: QuantizerChoice, domain: ValueDomain, signal: DiscreteSignal,
                               declaredValidBits: Int?, path: String) throws -> (quantizer: Quantizer, reason: String) {
        let e = signal.encoding
        let (q, reason, given) = try resolve(choice, domain: domain, encoding: e, path: path) {
            var d = try QuantizerDetector(encoding: e)
            signal.bins.withUnsafeBufferPointer { d.add(bins: $0) }
            return try d.detect(declaredValidBits: declaredValidBits)
        }
        if given, let i = signal.bins.withUnsafeBufferPointer({ CellLookup(q).firstOffQuantizer($0) }) {
            throw AudioDQError.quantizerDoesNotFit(path: path, quantizer: choice.description,
                                                   reason: "sample \(i) (code \(Int(signal.bins[i]) - e.binCount / 2)) is not on it")
        }
        return (q, reason)
    }

    /// The rule of the table for a file of `encoding`, before its codes are checked: `detect` is
    /// called only for `auto` on linear PCM (a streaming caller scans the file there).
    /// `given`: the quantizer was asked for on linear PCM, so the caller must check that every
    /// code is on it (`train` before training, `convert` while converting).
    public static func resolve(_ choice: QuantizerChoice, domain: ValueDomain, encoding e: SampleEncoding, path: String,
                               detect: () throws -> QuantizerDetection) throws -> (quantizer: Quantizer, reason: String, given: Bool) {
        func refuse(_ why: String) -> AudioDQError { .quantizerDoesNotFit(path: path, quantizer: choice.description, reason: why) }
        if !e.isLinear {
            let lawChoice: QuantizerChoice = e == .ulaw ? .mulaw : .alaw
            switch choice {
            case .auto, lawChoice:
                if domain == .code { return (.container(e), "\(e.displayName) codes, code domain", false) }
                return (try g711(e, e, refuse), "\(e.displayName) codes, linear domain: the law's decision intervals", false)
            case .container:
                guard domain == .code else { throw refuse("the linear domain has no one-code cells; use auto or the law") }
                return (.container(e), "\(e.displayName) codes, code domain", false)
            default:
                throw refuse("the file holds \(e.displayName) codes")
            }
        }
        let q: Quantizer?
        do { q = try choice.quantizer(e) } catch { throw refuse("\(error)") }
        guard let q else {
            let decision = try detect()
            return (decision.quantizer, decision.reason, false)
        }
        return (q, "asked for", q.kind != .container)
    }

    private static func g711(_ law: SampleEncoding, _ container: SampleEncoding,
                             _ refuse: (String) -> AudioDQError) throws -> Quantizer {
        do { return try .g711Linear(law, container: container) } catch { throw refuse("\(error)") }
    }
}
