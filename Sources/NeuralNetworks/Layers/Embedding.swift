/// A lookup table of vectors, one per index (Keras `Embedding`, PyTorch `nn.Embedding`): each
/// input value, a whole number in `0..<inputDim` (a token or category id), becomes row `value` of
/// `embeddings` (`[inputDim, outputDim]`, the same layout in both frameworks). Inputs `[steps]` of
/// ids give `[steps, outputDim]`, what a recurrent layer reads: `embedding(10000, 64) lstm(64)`.
///
/// Backward: each row's gradient is the sum of the output gradients of the positions that read
/// it (`dE[id] += dy`); ids have no gradient, so the input gradient is zeros. As the first layer
/// of a model (or inside a first container) its ids are checked before every pass
/// (``checkInput(_:)``): an id outside the table is an error naming it. Where no check was asked
/// (after another layer, or ``Sequential/predict(_:batchSize:sequenceLengths:)`` on a tensor),
/// such an id reads a row of NaN, so that the loss or the prediction shows it, never a plausible row.
public final class Embedding: Layer {
    public static let typeName = "Embedding"
    public static let positionalKeys = ["input_dim", "output_dim"]
    public var name = "embedding"
    public let inputDim: Int
    public let outputDim: Int
    public let embeddingsInitializer: Initializer
    public private(set) var embeddings: Parameter!
    public var needsInputGradient = true
    /// The row each input value read in the last forward pass (−1: not an index of the table).
    private var lastRows: [Int] = []
    private var lastInputShape: [Int] = []

    public init(inputDim: Int, outputDim: Int, embeddingsInitializer: Initializer = .randomUniform(low: -0.05, high: 0.05)) {
        precondition(inputDim > 0 && outputDim > 0, "Embedding needs at least one row and one column")
        (self.inputDim, self.outputDim, self.embeddingsInitializer) = (inputDim, outputDim, embeddingsInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var inputDim: Int
        public var outputDim: Int
        public var embeddingsInitializer: Initializer?
        enum CodingKeys: String, CodingKey {
            case inputDim = "input_dim", outputDim = "output_dim", embeddingsInitializer = "embeddings_initializer"
        }
    }
    public var configuration: Configuration {
        Configuration(inputDim: inputDim, outputDim: outputDim, embeddingsInitializer: embeddingsInitializer)
    }
    public convenience init(configuration c: Configuration) throws {
        guard c.inputDim > 0, c.outputDim > 0 else {
            throw ShapeError("Embedding needs at least one row and one column, got input_dim \(c.inputDim), output_dim \(c.outputDim)")
        }
        self.init(inputDim: c.inputDim, outputDim: c.outputDim,
                  embeddingsInitializer: c.embeddingsInitializer ?? .randomUniform(low: -0.05, high: 0.05))
    }

    public var parameters: [Parameter] { [embeddings].compactMap { $0 } }

    /// Each position on its own: the padding of padded sequences stays padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        embeddings = try context.parameter("embeddings", shape: [inputDim, outputDim], initializer: embeddingsInitializer)
        return inputShape + [outputDim]
    }

    /// The table row of `value`, or nil when it is not a whole number in `0..<inputDim`.
    private func row(_ value: Float) -> Int? {
        value.rounded() == value && value >= 0 && value < Float(inputDim) ? Int(value) : nil
    }

    public func checkInput(_ input: Tensor) throws {
        guard let bad = input.scalars.firstIndex(where: { row($0) == nil }) else { return }
        let perSample = input.count / max(input.shape.first ?? 1, 1)
        throw ShapeError("\(name): input value \(input.scalars[bad]) (sample \(bad / max(perSample, 1)) of the batch, position "
                         + "\(bad % max(perSample, 1))) is not an index of its \(inputDim) rows, a whole number in 0...\(inputDim - 1)")
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        lastInputShape = input.shape
        // A value that is no index (possible only where checkInput was not asked) reads NaN.
        lastRows = input.scalars.map { row($0) ?? -1 }
        return Tensor(shape: input.shape + [outputDim]) { output in
            for (position, row) in lastRows.enumerated() {
                let target = output + position * outputDim
                if row < 0 { target.update(repeating: .nan, count: outputDim) } else {
                    target.update(from: embeddings.value + row * outputDim, count: outputDim)
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(outputGradient.count == lastRows.count * outputDim, "\(name): gradient shape \(outputGradient.shape)")
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            for (position, row) in lastRows.enumerated() where row >= 0 {
                let gradient = embeddings.gradient + row * outputDim, source = dy.baseAddress! + position * outputDim
                for k in 0..<outputDim { gradient[k] += source[k] }
            }
        }
        return needsInputGradient ? Tensor(zeros: lastInputShape) : Tensor(zeros: [0])
    }
}

extension Embedding: PyTorchConvertible {
    /// `nn.Embedding(inputDim, outputDim)` (its weight is our table), reading float ids as indices.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("Embedding(\(inputDim), \(outputDim))", tensors: [PyTorchTensor("weight", embeddings)],
                       helpers: ["Embedding": """
            class Embedding(nn.Embedding):
                \"\"\"nn.Embedding that takes the ids as the model's float inputs.\"\"\"
                def forward(self, x):
                    return super().forward(x.long())
            """])]
    }
}
