/// Adds a learnt vector to each position of its input: `y = x + P`, with `P` the shape of one
/// sample (`[steps, features]`), the same for every sample. Attention sees its inputs as a set;
/// this tells it where each step is (BERT's and ViT's learnt position embeddings; Flax's
/// `AddPositionEmbs`). keras_hub's `PositionEmbedding` returns `P` alone for the user to add: this
/// layer adds it, as `residual([…])` would. `embedding(20000, 64) positionembedding mha(4) …`
///
/// Backward: `dP += Σ_batch dy`, `dx = dy`.
public final class PositionEmbedding: Layer {
    public static let typeName = "PositionEmbedding"
    public static let specAliases = ["positions"]
    public var name = "position_embedding"
    public let initializer: Initializer
    public private(set) var embeddings: Parameter!
    public var needsInputGradient = true
    private var sampleShape: [Int] = []

    /// keras_hub's default initializer, Glorot uniform over `[steps, features]`.
    public init(initializer: Initializer = .glorotUniform) { self.initializer = initializer }

    public struct Configuration: Codable, Sendable, Equatable {
        public var initializer: Initializer?
    }
    public var configuration: Configuration { Configuration(initializer: initializer) }
    public convenience init(configuration: Configuration) throws { self.init(initializer: configuration.initializer ?? .glorotUniform) }

    public var parameters: [Parameter] { [embeddings].compactMap { $0 } }

    /// Step by step (each step gets its own vector): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        // A flat vector has no positions: there the layer would be a bias.
        guard inputShape.count >= 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name): PositionEmbedding needs inputs with positions, such as [steps, features], got \(inputShape)")
        }
        sampleShape = inputShape
        embeddings = try context.parameter("embeddings", shape: inputShape, initializer: initializer)
        return inputShape
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == sampleShape, "\(name): input \(input.shape), expected [batch] + \(sampleShape)")
        var output = input
        let size = embeddings.count
        output.scalars.withUnsafeMutableBufferPointer { y in
            for start in stride(from: 0, to: y.count, by: size) {
                for k in 0..<size { y[start + k] += embeddings.value[k] }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(Array(outputGradient.shape.dropFirst()) == sampleShape, "\(name): gradient shape \(outputGradient.shape)")
        let size = embeddings.count
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            for start in stride(from: 0, to: dy.count, by: size) {
                for k in 0..<size { embeddings.gradient[k] += dy[start + k] }
            }
        }
        return needsInputGradient ? outputGradient : Tensor(zeros: [0])
    }
}

extension PositionEmbedding: PyTorchConvertible {
    /// `PositionEmbedding(*shape)` (helper): `x + weight`, weight = the embeddings.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("PositionEmbedding(\(sampleShape.map(String.init).joined(separator: ", ")))",
                       tensors: [PyTorchTensor("weight", embeddings)], helpers: ["PositionEmbedding": """
            class PositionEmbedding(nn.Module):
                \"\"\"Adds a learnt vector to each position: x + weight, weight of one sample's shape.\"\"\"
                def __init__(self, *shape):
                    super().__init__()
                    self.weight = nn.Parameter(torch.zeros(*shape))

                def forward(self, x):
                    return x + self.weight
            """])]
    }
}
