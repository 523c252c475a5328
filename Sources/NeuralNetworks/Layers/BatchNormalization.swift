/// Batch normalisation over the last axis (Keras `BatchNormalization(axis=-1)`; PyTorch's
/// `BatchNorm1d` after a linear layer, `BatchNorm2d` on channels-last images): each channel of
/// every position and sample is normalised together,
///
///     y = γ ⊙ (x − μ) / √(σ² + ε) + β
///
/// with the batch's mean and (biased) variance per channel in training, which also move the
/// averages (`moving = momentum · moving + (1 − momentum) · batch`, the variance unbiased as
/// PyTorch's running variance), and the moving averages in inference. Keras' defaults: momentum
/// 0.99 (PyTorch's momentum 0.01), ε 0.001. The moving averages are buffers: saved with the
/// weights, counted as non-trainable.
public final class BatchNormalization: Layer {
    public static let typeName = "BatchNormalization"
    public static let positionalKeys = ["momentum", "epsilon"]
    public static let specAliases = ["batchnorm", "bn"]
    public var name = "batch_normalization"
    public let momentum: Float
    public let epsilon: Float
    public private(set) var gamma: Parameter!
    public private(set) var beta: Parameter!
    public private(set) var movingMean: Parameter!
    public private(set) var movingVariance: Parameter!
    public var needsInputGradient = true

    private var width = 0
    private var training = false  // whether the last forward pass normalised by batch statistics
    private let normalized = FloatBuffer()  // x̂ of the last training pass
    private let inverse = FloatBuffer()     // [width]: 1 / √(σ² + ε)

    public init(momentum: Float = 0.99, epsilon: Float = 1e-3) {
        precondition((0...1).contains(momentum) && epsilon > 0, "BatchNormalization: momentum in 0...1, epsilon > 0")
        (self.momentum, self.epsilon) = (momentum, epsilon)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var momentum: Float?
        public var epsilon: Float?
    }

    public var configuration: Configuration { Configuration(momentum: momentum, epsilon: epsilon) }

    public convenience init(configuration c: Configuration) throws {
        let (momentum, epsilon) = (c.momentum ?? 0.99, c.epsilon ?? 1e-3)
        guard (0...1).contains(momentum), epsilon > 0, epsilon.isFinite else {
            throw ShapeError("BatchNormalization needs a momentum in 0...1 and a positive epsilon, got \(momentum), \(epsilon)")
        }
        self.init(momentum: momentum, epsilon: epsilon)
    }

    public var parameters: [Parameter] { [gamma, beta, movingMean, movingVariance].compactMap { $0 } }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else {
            throw ShapeError("\(name): BatchNormalization needs inputs with a channel axis, got \(inputShape)")
        }
        width = last
        gamma = try context.parameter("gamma", shape: [width], initializer: .ones)
        beta = try context.parameter("beta", shape: [width], initializer: .zeros)
        movingMean = try context.parameter("moving_mean", shape: [width], initializer: .zeros, trainable: false)
        movingVariance = try context.parameter("moving_variance", shape: [width], initializer: .ones, trainable: false)
        return inputShape
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { 2 * inputShape.reduce(1, *) }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int { batchSize * inputShape.reduce(1, *) + width }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(input.shape.last == width, "\(name): input \(input.shape) does not end in \(width) channels")
        training = context.training
        let rows = input.count / width
        var output = input
        output.scalars.withUnsafeMutableBufferPointer { y in
            if training {
                normalized.reserve(rows * width)
                inverse.reserve(width)
                BatchNormalizationMath.trainingForward(
                    y.baseAddress!, count: rows, statisticsOf: 0..<rows, width: width, gamma: gamma.value, beta: beta.value,
                    epsilon: epsilon, momentum: momentum, movingMean: movingMean.value, movingVariance: movingVariance.value,
                    normalized: normalized.pointer, inverse: inverse.pointer)
            } else {
                BatchNormalizationMath.inferenceForward(y.baseAddress!, count: rows, width: width, gamma: gamma.value,
                                                        beta: beta.value, epsilon: epsilon, movingMean: movingMean.value,
                                                        movingVariance: movingVariance.value)
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(training, "\(name): backward needs a forward pass with training: true first")
        let rows = outputGradient.count / width
        var inputGradient = outputGradient
        inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
            BatchNormalizationMath.backward(dx.baseAddress!, count: rows, statisticsOf: 0..<rows, width: width,
                                            gamma: gamma.value, normalized: normalized.pointer, inverse: inverse.pointer,
                                            gammaGradient: gamma.gradient, betaGradient: beta.gradient)
        }
        return needsInputGradient ? inputGradient : Tensor(zeros: [0])
    }
}

extension BatchNormalization: PyTorchConvertible {
    /// `ChannelsLastBatchNorm`: `nn.functional.batch_norm` over the rows of the last axis (the
    /// statistics of `BatchNorm1d`/`BatchNorm2d` on channels-last inputs), weight γ, bias β,
    /// `running_mean` and `running_var` the moving averages, PyTorch's momentum 1 − ours.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("ChannelsLastBatchNorm(\(width), momentum=\(1 - momentum), eps=\(epsilon))",
                       tensors: [PyTorchTensor("weight", gamma), PyTorchTensor("bias", beta),
                                 PyTorchTensor("running_mean", movingMean), PyTorchTensor("running_var", movingVariance)],
                       helpers: ["ChannelsLastBatchNorm": """
            class ChannelsLastBatchNorm(nn.Module):
                \"\"\"Keras' BatchNormalization over the last axis: batch_norm on the rows of channels.\"\"\"
                def __init__(self, channels, momentum, eps):
                    super().__init__()
                    self.weight = nn.Parameter(torch.ones(channels))
                    self.bias = nn.Parameter(torch.zeros(channels))
                    self.register_buffer("running_mean", torch.zeros(channels))
                    self.register_buffer("running_var", torch.ones(channels))
                    self.momentum, self.eps = momentum, eps

                def forward(self, x):
                    rows = nn.functional.batch_norm(x.reshape(-1, x.shape[-1]), self.running_mean, self.running_var,
                                                    self.weight, self.bias, self.training, self.momentum, self.eps)
                    return rows.reshape(x.shape)
            """])]
    }
}
