/// Gives each sample another shape with the same number of values (Keras `Reshape`); one
/// dimension may be −1, inferred from the others: `Reshape([28, -1])` turns `[784]` into `[28, 28]`.
public final class Reshape: Layer {
    public static let typeName = "Reshape"
    public static let positionalKeys = ["target_shape"]
    public var name = "reshape"
    public let targetShape: [Int]
    public var needsInputGradient = true
    private var inputShape: [Int] = []
    private var outputShape: [Int] = []

    public init(_ targetShape: [Int]) { self.targetShape = targetShape }

    public struct Configuration: Codable, Sendable, Equatable {
        public var targetShape: [Int]
        enum CodingKeys: String, CodingKey { case targetShape = "target_shape" }
    }
    public var configuration: Configuration { Configuration(targetShape: targetShape) }
    public convenience init(configuration: Configuration) throws {
        guard !configuration.targetShape.isEmpty,
              configuration.targetShape.allSatisfy({ $0 > 0 || $0 == -1 }),
              configuration.targetShape.filter({ $0 == -1 }).count <= 1 else {
            throw ShapeError("Reshape needs positive dimensions and at most one −1, got \(configuration.targetShape)")
        }
        self.init(configuration.targetShape)
    }

    /// The number of values of a sample of `shape`, checked for overflow.
    static func count(_ shape: [Int], _ name: String) throws -> Int {
        try shape.reduce(1) { total, dimension in
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard dimension > 0, !overflow else { throw ShapeError("\(name): shape \(shape) is not a valid size") }
            return product
        }
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        let total = try Self.count(inputShape, name)
        let known = try Self.count(targetShape.filter { $0 != -1 }, name)
        var shape = targetShape
        let fits: Bool
        if let unknown = shape.firstIndex(of: -1) {
            fits = total % known == 0
            shape[unknown] = total / known
        } else {
            fits = known == total
        }
        guard fits else {
            throw ShapeError("\(name): \(inputShape) (\(total) values) cannot be reshaped to \(targetShape)")
        }
        self.inputShape = inputShape
        outputShape = shape
        return shape
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        Tensor(shape: [input.shape[0]] + outputShape, scalars: input.scalars)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        Tensor(shape: [outputGradient.shape[0]] + inputShape, scalars: outputGradient.scalars)
    }
}

extension Reshape: PyTorchConvertible {
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("Reshape(\(outputShape))", helpers: ["Reshape": """
            class Reshape(nn.Module):
                \"\"\"Keras' Reshape: each sample to `shape`, the batch axis kept.\"\"\"
                def __init__(self, shape):
                    super().__init__()
                    self.shape = tuple(shape)

                def forward(self, x):
                    return x.reshape(x.shape[0], *self.shape)
            """])]
    }
}
