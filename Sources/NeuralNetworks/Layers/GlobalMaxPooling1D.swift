/// The largest value of each feature over the steps (Keras `GlobalMaxPooling1D`; PyTorch's
/// `x.amax(1)`): inputs `[steps, features]`, outputs `[features]`, the classic end of a text
/// convolution (`embedding(20000, 64) conv1d(128, 5, relu) globalmaxpooling1d dense(…)`). With
/// padded sequences only each sample's real steps compete. Backward: the gradient goes to the
/// step that held the maximum (the first, on a tie).
public final class GlobalMaxPooling1D: Layer {
    public static let typeName = "GlobalMaxPooling1D"
    public static let specAliases = ["gmp1d", "globalmaxpool1d"]
    public var name = "global_max_pooling1d"
    public var needsInputGradient = true
    private var (steps, features) = (0, 0)
    /// For each sample and feature of the last pass, the step of the maximum (−1: no real step).
    private var winners: [Int] = []

    public init() {}
    public var configuration: NoConfiguration { NoConfiguration() }
    public convenience init(configuration: NoConfiguration) throws { self.init() }

    /// It reads the lengths (each sample's real steps), and its output has no steps left.
    public func passesPaddedSequences() -> Bool { false }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name): GlobalMaxPooling1D needs sequences [steps, features], got \(inputShape)")
        }
        (steps, features) = (inputShape[0], inputShape[1])
        return [features]
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == [steps, features], "\(name): input \(input.shape)")
        let batch = input.shape[0]
        let counts = context.sequenceLengths ?? Array(repeating: steps, count: batch)
        winners = Array(repeating: -1, count: batch * features)
        var output = Tensor(zeros: [batch, features])
        for n in 0..<batch {
            for k in 0..<features {
                var best = -Float.infinity, winner = -1
                for t in 0..<counts[n] {
                    let value = input.scalars[(n * steps + t) * features + k]
                    // NaN wins, so that it reaches the loss and is reported there.
                    if value > best || (value.isNaN && !best.isNaN) || winner < 0 { (best, winner) = (value, t) }
                }
                winners[n * features + k] = winner
                output.scalars[n * features + k] = winner < 0 ? 0 : best
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        let batch = winners.count / max(features, 1)
        var inputGradient = Tensor(zeros: [batch, steps, features])
        for n in 0..<batch {
            for k in 0..<features where winners[n * features + k] >= 0 {
                inputGradient.scalars[(n * steps + winners[n * features + k]) * features + k] = outputGradient.scalars[n * features + k]
            }
        }
        return inputGradient
    }
}

extension GlobalMaxPooling1D: PyTorchConvertible {
    /// The maximum over the steps of `[N, steps, features]` (every step: PyTorch has no lengths here).
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("GlobalMaxPooling1D()", helpers: ["GlobalMaxPooling1D": """
            class GlobalMaxPooling1D(nn.Module):
                \"\"\"Keras' GlobalMaxPooling1D: the maximum of each feature of [N, steps, features] over the steps.\"\"\"
                def forward(self, x):
                    return x.amax(dim=1)
            """])]
    }
}
