/// A trainable array: its value and its gradient side by side, with a stable name
/// (such as `bidirectional.forward.kernel`) used in summaries and on disk.
///
/// Storage is a fixed block of memory, so that kernels read and write it without copies.
public final class Parameter: @unchecked Sendable {
    public internal(set) var name: String
    public let shape: [Int]
    public let count: Int
    let value: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>

    init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        value = .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
        gradient = .allocate(capacity: max(count, 1))
        gradient.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        value.deallocate()
        gradient.deallocate()
    }

    /// The current value, copied out or in. Setting requires the same shape.
    public var tensor: Tensor {
        get { Tensor(shape: shape, copying: value) }
        set {
            precondition(newValue.shape == shape, "\(name): shape \(newValue.shape) does not match \(shape)")
            newValue.scalars.withUnsafeBufferPointer { value.update(from: $0.baseAddress!, count: count) }
        }
    }

    /// The gradient accumulated since the last ``zeroGradient()``.
    public var gradientTensor: Tensor { Tensor(shape: shape, copying: gradient) }

    public func zeroGradient() { gradient.update(repeating: 0, count: count) }
}
