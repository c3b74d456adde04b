/// Errors of the DiscreteAudio module. Every case names the offending values.
public enum DiscreteAudioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A lattice quantizer or a detector was asked for on an encoding that is not linear PCM (G.711).
    case needsLinearPCM(SampleEncoding)
    /// A lattice step 2^stepLog2 outside 0 ≤ stepLog2 < bits of the container.
    case latticeStepOutOfRange(stepLog2: Int, containerBits: Int)
    /// A G.711 linear-domain quantizer with a law that is not `ulaw`/`alaw`, or a container that
    /// cannot hold it (the law's own bytes, or 16/24-bit linear PCM).
    case g711ContainerMismatch(law: SampleEncoding, container: SampleEncoding)
    /// A declared number of valid bits outside 1...bits of the container.
    case validBitsOutOfRange(validBits: Int, containerBits: Int)

    public var description: String {
        switch self {
        case .needsLinearPCM(let e):
            return "lattices and quantizer detection need linear PCM, not \(e.displayName)"
        case .latticeStepOutOfRange(let k, let bits):
            return "lattice step 2^\(k) is out of range for a \(bits)-bit container (need 0 <= k < \(bits))"
        case .g711ContainerMismatch(let law, let container):
            return "\(law.displayName) cells cannot be placed in \(container.displayName) (need the law's own bytes or 16/24-bit PCM)"
        case .validBitsOutOfRange(let v, let bits):
            return "\(v) valid bits declared for a \(bits)-bit container (need 1...\(bits))"
        }
    }
}
