/// Adds zero-mean Gaussian noise of standard deviation `stddev` while training (Keras
/// `GaussianNoise`), nothing at inference; the gradient passes unchanged. The noise comes from the
/// layer's own random stream (``ForwardContext``), so runs repeat and resume exactly.
public final class GaussianNoise: Layer {
    public static let typeName = "GaussianNoise"
    public static let positionalKeys = ["stddev"]
    public var name = "gaussian_noise"
    public let stddev: Float
    public var needsInputGradient = true

    public init(stddev: Float) {
        precondition(stddev.isFinite && stddev >= 0, "noise stddev must be finite and ≥ 0, got \(stddev)")
        self.stddev = stddev
    }

    public struct Configuration: Codable, Sendable, Equatable { public var stddev: Float }
    public var configuration: Configuration { Configuration(stddev: stddev) }
    public convenience init(configuration: Configuration) throws {
        guard configuration.stddev.isFinite, configuration.stddev >= 0 else {
            throw ShapeError("noise stddev must be finite and ≥ 0, got \(configuration.stddev)")
        }
        self.init(stddev: configuration.stddev)
    }

    /// Step by step (noise on each value): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        guard context.training, stddev > 0 else { return input }
        let samples = input.shape.first ?? 1
        let noise = Tensor(shape: input.shape,
                           scalars: drawNoise(samples: samples, perSample: input.count / max(samples, 1), context: context))
        var output = input
        context.backend.add(noise, into: &output)
        return output
    }

    /// A training pass's noise from the layer's stream, N(0, stddev²) per value (the GPU's form
    /// draws the same).
    func drawNoise(samples: Int, perSample: Int, context: ForwardContext) -> [Float] {
        let sigma = Double(stddev)
        return context.draws(for: self, samples: samples, perSample: perSample) { Float($0.normal(standardDeviation: sigma)) }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
}

extension GaussianNoise: PyTorchConvertible {
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("GaussianNoise(\(stddev))", helpers: ["GaussianNoise": """
            class GaussianNoise(nn.Module):
                \"\"\"Keras' GaussianNoise: adds N(0, stddev²) while training, the identity in eval().\"\"\"
                def __init__(self, stddev):
                    super().__init__()
                    self.stddev = stddev

                def forward(self, x):
                    return x + self.stddev * torch.randn_like(x) if self.training else x
            """])]
    }
}
