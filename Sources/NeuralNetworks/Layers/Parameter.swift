/// A trainable array: its value and its gradient side by side, with a stable name
/// (such as `bidirectional.forward.kernel`) used in summaries and on disk.
///
/// Storage is a fixed block of memory, so that kernels read and write it without copies. Several
/// parameters may share one ``ParameterBlock`` (an LSTM keeps [kernel; recurrentKernel; bias] as
/// one matrix, so that one product per step uses all three).
public final class Parameter: @unchecked Sendable {
    public internal(set) var name: String
    public let shape: [Int]
    public let count: Int
    let value: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    private let block: ParameterBlock  // owns the memory

    /// A parameter with memory of its own.
    convenience init(name: String, shape: [Int]) {
        self.init(name: name, shape: shape, in: ParameterBlock(count: shape.reduce(1, *)), offset: 0)
    }

    /// A parameter over `block`'s values and gradients from `offset` on.
    init(name: String, shape: [Int], in block: ParameterBlock, offset: Int) {
        self.name = name
        self.shape = shape
        count = shape.reduce(1, *)
        precondition(offset >= 0 && offset + count <= block.count, "\(name) does not fit its block")
        self.block = block
        value = block.value + offset
        gradient = block.gradient + offset
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

/// Values and gradients, zeroed, for one or more ``Parameter``s laid side by side.
final class ParameterBlock: @unchecked Sendable {
    let count: Int
    let value: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        value = .allocate(capacity: max(count, 1))
        value.initialize(repeating: 0, count: max(count, 1))
        gradient = .allocate(capacity: max(count, 1))
        gradient.initialize(repeating: 0, count: max(count, 1))
    }

    deinit {
        value.deallocate()
        gradient.deallocate()
    }
}
