import NeuralNetworks

/// A learned scale and shift per feature, `y = x ⊙ γ + β` (an affine layer, as the second half of
/// a normalisation layer): a layer with weights, written outside the library.
final class Scale: Layer {
    static let typeName = "Scale"
    static let positionalKeys = ["initial_scale"]
    var name = "scale"
    var needsInputGradient = true
    let initialScale: Float
    private(set) var gamma: Parameter!
    private(set) var beta: Parameter!
    private var lastInput = Tensor(zeros: [0])

    init(initialScale: Float = 1) { self.initialScale = initialScale }

    struct Configuration: Codable, Sendable {
        var initialScale: Float
        enum CodingKeys: String, CodingKey { case initialScale = "initial_scale" }
    }
    var configuration: Configuration { Configuration(initialScale: initialScale) }
    convenience init(configuration: Configuration) { self.init(initialScale: configuration.initialScale) }

    var parameters: [Parameter] { [gamma, beta].compactMap { $0 } }
    /// Each step of a sequence on its own: it may take padded sequences (`--lengths`).
    func passesPaddedSequences() -> Bool { true }

    func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard let width = inputShape.last else { throw ShapeError("\(name): needs a last axis") }
        gamma = try context.parameter("gamma", shape: [width], initializer: .constant(initialScale))
        beta = try context.parameter("beta", shape: [width], initializer: .zeros)
        return inputShape
    }

    func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        lastInput = input
        var output = input
        let width = gamma.count
        for k in 0..<output.count { output.scalars[k] = input.scalars[k] * gamma.values[k % width] + beta.values[k % width] }
        return output
    }

    /// dγ = Σ dy ⊙ x, dβ = Σ dy (over the batch), dx = dy ⊙ γ.
    func backward(_ outputGradient: Tensor) -> Tensor {
        let width = gamma.count
        var inputGradient = outputGradient
        for k in 0..<outputGradient.count {
            let dy = outputGradient.scalars[k], j = k % width
            gamma.gradients[j] += dy * lastInput.scalars[k]
            beta.gradients[j] += dy
            inputGradient.scalars[k] = dy * gamma.values[j]
        }
        return inputGradient
    }
}

/// How the layer appears in PyTorch (`nn export --format torch`): a small module of its own, with
/// `gamma` and `beta` as they are.
extension Scale: PyTorchConvertible {
    func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("Scale(\(gamma.count))", tensors: [PyTorchTensor("gamma", gamma), PyTorchTensor("beta", beta)],
                       helpers: ["Scale": """
                           class Scale(nn.Module):
                               \"\"\"y = x * gamma + beta per feature.\"\"\"
                               def __init__(self, width):
                                   super().__init__()
                                   self.gamma = nn.Parameter(torch.ones(width))
                                   self.beta = nn.Parameter(torch.zeros(width))

                               def forward(self, x):
                                   return x * self.gamma + self.beta
                           """])]
    }
}
