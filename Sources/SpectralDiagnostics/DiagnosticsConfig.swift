/// Parameters of one diagnostics run (shared by every channel).
public struct DiagnosticsConfig: Codable, Sendable, Equatable {
    /// Welch segment length in samples (even, in `npersegRange`). Periodic Hann window, 50 %
    /// overlap (hop nperseg/2), so the frequency resolution is fs/nperseg Hz per bin.
    public var nperseg: Int = 1024
    /// Block length B (samples) for the block-edge spur check; nil = scan B = 256, 512, …, 65536.
    public var blockLength: Int? = nil
    /// Number of lags L of the Ljung–Box whiteness test (L ≥ 1; independent of nperseg).
    public var lags: Int = 20
    /// Family-wise false-alarm probability per channel (0 < α < 0.5), split evenly (Bonferroni)
    /// over the statistical checks that apply.
    public var alpha: Double = 0.01
    /// What produced the noise; decides which checks apply.
    public var noiseKind: NoiseKind = .uniform

    public init(nperseg: Int = 1024, blockLength: Int? = nil, lags: Int = 20, alpha: Double = 0.01,
                noiseKind: NoiseKind = .uniform) {
        self.nperseg = nperseg
        self.blockLength = blockLength
        self.lags = lags
        self.alpha = alpha
        self.noiseKind = noiseKind
    }

    private enum CodingKeys: String, CodingKey { case nperseg, blockLength, lags, alpha, noiseKind }

    /// Decodes a config; every missing key takes its default, so `{}` is the default config.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DiagnosticsConfig()
        nperseg = try c.decodeIfPresent(Int.self, forKey: .nperseg) ?? d.nperseg
        blockLength = try c.decodeIfPresent(Int.self, forKey: .blockLength)
        lags = try c.decodeIfPresent(Int.self, forKey: .lags) ?? d.lags
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha
        noiseKind = try c.decodeIfPresent(NoiseKind.self, forKey: .noiseKind) ?? d.noiseKind
    }

    /// Valid Welch segment lengths (even ones only). The lower end keeps tested bins 2 … nperseg/2 − 1
    /// (at least 6) for the spectral statistics; the upper end bounds the analyser's memory
    /// (12·nperseg Doubles per channel, 96 MiB at 2^20) and FFTW's 32-bit length.
    public static let npersegRange = 16...(1 << 20)
    /// `npersegRange` and the parity rule in words, for error messages.
    public static let npersegRule = "an even number from \(npersegRange.lowerBound) to \(npersegRange.upperBound)"

    /// True when `n` is a valid nperseg.
    public static func isValidNperseg(_ n: Int) -> Bool {
        npersegRange.contains(n) && n % 2 == 0
    }

    /// Throws `.invalidConfig` for a field outside its valid range.
    public func validate() throws {
        if !Self.isValidNperseg(nperseg) {
            throw SpectralDiagnosticsError.invalidConfig(field: "nperseg", value: "\(nperseg)", requirement: Self.npersegRule)
        }
        if let b = blockLength, b < 2 {
            throw SpectralDiagnosticsError.invalidConfig(field: "blockLength", value: "\(b)", requirement: ">= 2")
        }
        if lags < 1 {
            throw SpectralDiagnosticsError.invalidConfig(field: "lags", value: "\(lags)", requirement: ">= 1")
        }
        if !(alpha > 0 && alpha < 0.5) {
            throw SpectralDiagnosticsError.invalidConfig(field: "alpha", value: "\(alpha)", requirement: "0 < alpha < 0.5")
        }
    }
}
