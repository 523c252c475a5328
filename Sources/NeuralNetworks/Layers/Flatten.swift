/// Flattens each sample to one axis (Keras `Flatten`): `[28, 28]` becomes `[784]`, so an image
/// read as a sequence feeds a ``Dense`` layer. No copy: the values are already in that order.
public final class Flatten: Layer {
    public static let typeName = "Flatten"
    public var name = "flatten"
    public var needsInputGradient = true
    private var inputShape: [Int] = []

    public init() {}
    public var configuration: NoConfiguration { NoConfiguration() }
    public convenience init(configuration: NoConfiguration) { self.init() }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        self.inputShape = inputShape
        return [try Reshape.count(inputShape, name)]
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        Tensor(shape: [input.shape[0], input.count / max(input.shape[0], 1)], scalars: input.scalars)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        Tensor(shape: [outputGradient.shape[0]] + inputShape, scalars: outputGradient.scalars)
    }
}

extension Flatten: PyTorchConvertible {
    public func pyTorchModules() throws -> [PyTorchModule] { [PyTorchModule("nn.Flatten()")] }
}
