/// What produced the within-bin noise u, which decides which checks apply.
///
/// - `uniform`: u ~ U(0, 1) independent of everything; every check applies.
/// - `learned`: variational (model-conditioned) noise. Its within-bin law is not uniform and it may
///   follow the signal, so only `containment`, `block-spur`, `tonal-spur` and a one-sided
///   `edge-mass` bound (no more mass near the bin edges than uniform noise) apply.
public enum NoiseKind: String, Codable, Sendable, CaseIterable {
    case uniform
    case learned
}
