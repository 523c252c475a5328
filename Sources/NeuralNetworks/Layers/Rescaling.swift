/// `y = x · scale + offset` (Keras `Rescaling`): inputs brought to the range a model wants, in
/// the model, so prediction applies it too (`nn train --normalize scale`: ÷ 255 for pixel values
/// stored as floats; bytes are read ÷ 255 already).
public final class Rescaling: Layer {
    public static let typeName = "Rescaling"
    public static let positionalKeys = ["scale", "offset"]
    public var name = "rescaling"
    public let scale: Float
    public let offset: Float
    public var needsInputGradient = true

    public init(scale: Float, offset: Float = 0) {
        precondition(scale.isFinite && offset.isFinite, "rescaling needs a finite scale and offset")
        (self.scale, self.offset) = (scale, offset)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var scale: Float
        public var offset: Float?
    }
    public var configuration: Configuration { Configuration(scale: scale, offset: offset) }
    public convenience init(configuration: Configuration) throws {
        guard configuration.scale.isFinite, (configuration.offset ?? 0).isFinite else {
            throw ShapeError("rescaling needs a finite scale and offset, got \(configuration.scale), \(configuration.offset ?? 0)")
        }
        self.init(scale: configuration.scale, offset: configuration.offset ?? 0)
    }

    /// Step by step (each value alone): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        Tensor(shape: input.shape, scalars: input.scalars.map { $0 * scale + offset })
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        Tensor(shape: outputGradient.shape, scalars: outputGradient.scalars.map { $0 * scale })
    }
}

extension Rescaling: PyTorchConvertible {
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("Rescaling(\(scale), \(offset))", helpers: ["Rescaling": """
            class Rescaling(nn.Module):
                \"\"\"Keras' Rescaling: x * scale + offset.\"\"\"
                def __init__(self, scale, offset=0.0):
                    super().__init__()
                    self.scale, self.offset = scale, offset

                def forward(self, x):
                    return x * self.scale + self.offset
            """])]
    }
}
