/// Zero steps before and after sequences (Keras `ZeroPadding1D`; PyTorch's `F.pad` of `[N, C, L]`):
/// inputs `[steps, features]`, outputs `[start + steps + end, features]`; backward, the
/// gradient's middle. Before a `valid` 1-D convolution. It is a ``ZeroPadding2D`` of one-row
/// images, sharing its passes and GPU form; it changes what a step is: padded sequences are refused.
public final class ZeroPadding1D: Layer {
    public static let typeName = "ZeroPadding1D"
    public static let positionalKeys = ["padding"]
    public static let specAliases = ["zeropad1d", "pad1d"]
    public var name = "zero_padding1d" {
        didSet { images.name = name }
    }
    let images: ZeroPadding2D  // its passes (and the GPU form's)
    public let padding: SequenceMargins
    public var needsInputGradient: Bool {
        get { images.needsInputGradient }
        set { images.needsInputGradient = newValue }
    }

    public init(padding: SequenceMargins = SequenceMargins(1)) {
        self.padding = padding
        images = ZeroPadding2D(padding: padding.oneRow)
        images.name = name
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var padding: SequenceMargins?
    }
    public var configuration: Configuration { Configuration(padding: padding) }
    public convenience init(configuration c: Configuration) throws {
        let margins = c.padding ?? SequenceMargins(1)
        guard margins.oneRow.isValid() else { throw ShapeError("ZeroPadding1D: padding \(margins) must be in 0...\(1 << 20)") }
        self.init(padding: margins)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("\(name): ZeroPadding1D needs sequences [steps, features], got \(inputShape)")
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

extension ZeroPadding1D: PyTorchConvertible {
    /// The 2-D layer's module on one-row images (`OneRow`, a helper).
    public func pyTorchModules() throws -> [PyTorchModule] { try images.pyTorchModules().map(PyTorchModule.oneRow) }
}
