import Foundation

/// A trainable array (or, with ``isTrainable`` false, a buffer such as a running mean): its value
/// and its gradient side by side. A layer names it locally (`kernel`); the model that holds the
/// layer gives it its path (`bidirectional.forward.kernel`), used in summaries, optimizer state
/// and on disk. Layers create parameters through ``BuildContext/parameter(_:shape:initializer:trainable:)``.
///
/// Storage is a fixed block of memory, so that kernels read and write it without copies. Several
/// parameters may share one block (an LSTM keeps [kernel; recurrentKernel; bias] as
/// one matrix, so that one product per step uses all three).
public final class Parameter: @unchecked Sendable {
    /// The path within the model once the model is built (`dense.kernel`); the local name before.
    public internal(set) var name: String
    /// The name within its layer (`kernel`).
    public let localName: String
    /// False for buffers: saved and loaded with the weights, never changed by an optimizer.
    public let isTrainable: Bool
    public let shape: [Int]
    public let count: Int
    let value: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    private let block: ParameterBlock  // owns the memory

    /// A parameter with memory of its own.
    convenience init(name: String, shape: [Int], trainable: Bool = true) {
        guard let block = ParameterBlock(zeroed: shape.reduce(1, *)) else {
            fatalError("cannot allocate \(shape.reduce(1, *)) values for \(name)")
        }
        self.init(name: name, shape: shape, in: block, offset: 0, trainable: trainable)
    }

    /// A parameter over `block`'s values and gradients from `offset` on.
    init(name: String, shape: [Int], in block: ParameterBlock, offset: Int, trainable: Bool = true) {
        self.name = name
        localName = name
        isTrainable = trainable
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

    /// The value's storage, for kernels that read or write it in place (`count` floats).
    public var values: UnsafeMutablePointer<Float> { value }
    /// The gradient's storage (`count` floats); `backward` adds into it.
    public var gradients: UnsafeMutablePointer<Float> { gradient }

    public func zeroGradient() { gradient.update(repeating: 0, count: count) }

    /// Whether every value is finite (an update with a huge step can overflow them).
    public var valuesAreFinite: Bool { UnsafeBufferPointer(start: value, count: count).allSatisfy(\.isFinite) }
}

/// Values and gradients, zeroed, for one or more ``Parameter``s laid side by side.
final class ParameterBlock: @unchecked Sendable {
    let count: Int
    let value: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>

    /// Zeroed by calloc: a large block's pages are mapped lazily, so a block whose values come
    /// from a file, or that is only counted, costs no memory until written.
    init?(zeroed count: Int) {
        let size = max(count, 1)
        guard let value = calloc(size, MemoryLayout<Float>.stride) else { return nil }
        guard let gradient = calloc(size, MemoryLayout<Float>.stride) else {
            free(value)
            return nil
        }
        self.count = count
        self.value = value.bindMemory(to: Float.self, capacity: size)
        self.gradient = gradient.bindMemory(to: Float.self, capacity: size)
    }

    deinit {
        free(value)
        free(gradient)
    }
}
