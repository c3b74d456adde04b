/// A manually managed Float32 buffer used for activations and scratch space. It is resized only
/// when the requested size changes, so a training loop on a fixed shape allocates nothing after
/// its first step. Not thread-safe; owned by exactly one layer.
final class Workspace {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var count: Int

    init(count: Int = 0) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Makes the buffer hold exactly `n` elements; contents are undefined after a size change.
    func resize(_ n: Int) {
        if n == count { return }
        pointer.deallocate()
        pointer = .allocate(capacity: max(n, 1))
        pointer.initialize(repeating: 0, count: max(n, 1))
        count = n
    }

    func zero() { pointer.update(repeating: 0, count: count) }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    var array: [Float] { Array(buffer) }
}
