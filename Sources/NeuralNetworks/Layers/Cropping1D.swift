/// Steps cut from the start and end of sequences (Keras `Cropping1D`): inputs `[steps, features]`,
/// outputs `[steps − start − end, features]`; backward, the gradient with zeros at the cut
/// steps. It is a ``Cropping2D`` of one-row images, sharing its passes and GPU form; it changes
/// what a step is: padded sequences are refused.
public final class Cropping1D: Layer {
    public static let typeName = "Cropping1D"
    public static let positionalKeys = ["cropping"]
    public static let specAliases = ["crop1d"]
    public var name = "cropping1d" {
        didSet { images.name = name }
    }
    let images: Cropping2D  // its passes (and the GPU form's)
    public let cropping: SequenceMargins
    public var needsInputGradient: Bool {
        get { images.needsInputGradient }
        set { images.needsInputGradient = newValue }
    }

    public init(cropping: SequenceMargins = SequenceMargins(0)) {
        self.cropping = cropping
        images = Cropping2D(cropping: cropping.oneRow)
        images.name = name
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var cropping: SequenceMargins?
    }
    public var configuration: Configuration { Configuration(cropping: cropping) }
    public convenience init(configuration c: Configuration) throws {
        let margins = c.cropping ?? SequenceMargins(0)
        guard margins.oneRow.isValid() else { throw ShapeError("Cropping1D: cropping \(margins) must be in 0...\(1 << 20)") }
        self.init(cropping: margins)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("\(name): Cropping1D needs sequences [steps, features], got \(inputShape)")
        }
        return Array(try images.build(inputShape: [1] + inputShape, context: &context).dropFirst())
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        images.forward(input.withOneRowAxis(adding: true), context: context).withOneRowAxis(adding: false)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let gradient = images.backward(outputGradient.withOneRowAxis(adding: true))
        return needsInputGradient ? gradient.withOneRowAxis(adding: false) : gradient
    }
}

extension Cropping1D: PyTorchConvertible {
    /// The 2-D layer's module on one-row images (`OneRow`, a helper).
    public func pyTorchModules() throws -> [PyTorchModule] { try images.pyTorchModules().map(PyTorchModule.oneRow) }
}
