/// An activation applied as a layer of its own (Keras `Activation("relu")`): `y = f(x)` element-wise,
/// or softmax along the last axis. As the last layer it fuses with a matching loss like ``Dense``.
public final class ActivationLayer: OutputActivationLayer {
    public static let typeName = "Activation"
    public static let positionalKeys = ["activation"]
    public var name = "activation"
    public let activation: Activation
    public var needsInputGradient = true
    public private(set) var lastLogits = Tensor(zeros: [0])
    private var lastOutput = Tensor(zeros: [0])
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

    public init(_ activation: Activation) { self.activation = activation }

    public struct Configuration: Codable, Sendable, Equatable {
        public var activation: Activation
    }
    public var configuration: Configuration { Configuration(activation: activation) }
    public convenience init(configuration: Configuration) { self.init(configuration.activation) }

    /// Step by step (along the last axis, each step alone): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard let width = inputShape.last, width > 0 else {
            throw ShapeError("\(name): Activation needs inputs with a last axis, got shape \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        backend = context.backend
        lastLogits = input
        lastOutput = backend.activate(activation, input)
        return lastOutput
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        backend.activationGradient(activation, input: lastLogits, output: lastOutput, outputGradient: outputGradient)
    }

    public func backward(logitsGradient: Tensor) -> Tensor { logitsGradient }
}

extension ActivationLayer: PyTorchConvertible {
    public func pyTorchModules() throws -> [PyTorchModule] {
        [activation.pyTorchModule ?? PyTorchModule("nn.Identity()")]
    }
}
