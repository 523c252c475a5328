/// The mean of each feature over the steps (Keras `GlobalAveragePooling1D`; PyTorch's
/// `x.mean(1)`): inputs `[steps, features]`, outputs `[features]`. With padded sequences it
/// averages each sample's real steps only, as Keras does under a mask: `embedding(20000, 64)
/// globalaveragepooling1d dense(classes, softmax)` is a bag of embeddings.
public final class GlobalAveragePooling1D: Layer {
    public static let typeName = "GlobalAveragePooling1D"
    public static let specAliases = ["gap1d", "globalavgpool1d"]
    public var name = "global_average_pooling1d"
    public var needsInputGradient = true
    private var (steps, features) = (0, 0)
    /// The real steps of each sample of the last pass.
    private var counts: [Int] = []

    public init() {}
    public var configuration: NoConfiguration { NoConfiguration() }
    public convenience init(configuration: NoConfiguration) throws { self.init() }

    /// It reads the lengths (each sample's real steps), and its output has no steps left.
    public func passesPaddedSequences() -> Bool { false }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name): GlobalAveragePooling1D needs sequences [steps, features], got \(inputShape)")
        }
        (steps, features) = (inputShape[0], inputShape[1])
        return [features]
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == [steps, features], "\(name): input \(input.shape)")
        let batch = input.shape[0]
        counts = context.sequenceLengths ?? Array(repeating: steps, count: batch)
        var output = Tensor(zeros: [batch, features])
        for n in 0..<batch where counts[n] > 0 {
            for t in 0..<counts[n] {
                for k in 0..<features { output.scalars[n * features + k] += input.scalars[(n * steps + t) * features + k] }
            }
            for k in 0..<features { output.scalars[n * features + k] /= Float(counts[n]) }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        let batch = counts.count
        // Padding steps took no part: their gradient stays zero.
        var inputGradient = Tensor(zeros: [batch, steps, features])
        for n in 0..<batch where counts[n] > 0 {
            for t in 0..<counts[n] {
                for k in 0..<features {
                    inputGradient.scalars[(n * steps + t) * features + k] = outputGradient.scalars[n * features + k] / Float(counts[n])
                }
            }
        }
        return inputGradient
    }
}

extension GlobalAveragePooling1D: PyTorchConvertible {
    /// The mean over the steps of `[N, steps, features]` (every step: PyTorch has no lengths here).
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("GlobalAveragePooling1D()", helpers: ["GlobalAveragePooling1D": """
            class GlobalAveragePooling1D(nn.Module):
                \"\"\"Keras' GlobalAveragePooling1D: the mean of each feature of [N, steps, features] over the steps.\"\"\"
                def forward(self, x):
                    return x.mean(dim=1)
            """])]
    }
}
