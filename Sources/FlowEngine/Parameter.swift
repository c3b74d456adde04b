/// A named trainable Float32 array with its gradient accumulator of the same size.
///
/// Names are dotted paths such as `step0.coupling.conv1.weight`; they key checkpoints and the
/// optimiser state. `shape` follows PyTorch's layout of the same tensor (e.g. Conv1d weight
/// (out, in, kernel), row-major), so values can be exchanged with the reference directly.
/// `grad` is accumulated (+=) by every `backward` and cleared by `zeroGradient()`.
public final class Parameter {
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    public var grad: [Float]

    public init(name: String, shape: [Int], value: [Float]) {
        precondition(shape.reduce(1, *) == value.count, "parameter \(name): shape \(shape) vs \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.grad = [Float](repeating: 0, count: value.count)
    }

    public convenience init(name: String, shape: [Int], repeating v: Float = 0) {
        self.init(name: name, shape: shape, value: [Float](repeating: v, count: shape.reduce(1, *)))
    }

    public var count: Int { value.count }

    public func zeroGradient() {
        grad.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

}
