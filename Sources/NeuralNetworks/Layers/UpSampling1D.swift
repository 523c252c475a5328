/// Repeats each step `size` times (Keras `UpSampling1D`; PyTorch's `nn.Upsample` on `[N, C, L]`):
/// inputs `[steps, features]`, outputs `[steps · size, features]`; backward, each step's
/// gradient is the sum over its repeats. It is an ``UpSampling2D`` (nearest, 1 × size) over a
/// one-row image, as ``Conv1D`` is a ``Conv2D``, and shares that layer's passes and GPU form. It
/// changes what a step is: padded sequences are refused.
public final class UpSampling1D: Layer {
    public static let typeName = "UpSampling1D"
    public static let positionalKeys = ["size"]
    public static let specAliases = ["upsample1d"]
    public var name = "up_sampling1d" {
        didSet { sampling.name = name }
    }
    let sampling: UpSampling2D  // its passes (and the GPU form's)
    public var needsInputGradient: Bool {
        get { sampling.needsInputGradient }
        set { sampling.needsInputGradient = newValue }
    }
    public var size: Int { sampling.size.width }

    public init(size: Int = 2) {
        sampling = UpSampling2D(size: Size2D(1, size))
        sampling.name = name
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var size: Int?
    }
    public var configuration: Configuration { Configuration(size: size) }
    public convenience init(configuration c: Configuration) throws {
        let size = c.size ?? 2
        guard (1...UpSampling2D.largestFactor).contains(size) else {
            throw ShapeError("UpSampling1D: size \(size) must be a whole factor in 1...\(UpSampling2D.largestFactor)")
        }
        self.init(size: size)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("\(name): UpSampling1D needs sequences [steps, features], got \(inputShape)")
        }
        return Array(try sampling.build(inputShape: [1] + inputShape, context: &context).dropFirst())
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        sampling.forward(input.withOneRowAxis(adding: true), context: context).withOneRowAxis(adding: false)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let gradient = sampling.backward(outputGradient.withOneRowAxis(adding: true))
        return needsInputGradient ? gradient.withOneRowAxis(adding: false) : gradient
    }
}

extension UpSampling1D: PyTorchConvertible {
    /// The 2-D layer's module on one-row images (`OneRow`, a helper).
    public func pyTorchModules() throws -> [PyTorchModule] { try sampling.pyTorchModules().map(PyTorchModule.oneRow) }
}
