/// Inverted dropout (Keras and PyTorch `Dropout`, and the reference library's): while training,
/// each value is zeroed with probability `rate` and the kept ones are scaled by 1 / (1 − rate),
/// so inference is the identity. The mask comes from the layer's own random stream
/// (``ForwardContext``), so a seed repeats a run and a checkpoint resumes it exactly.
public final class Dropout: Layer {
    public static let typeName = "Dropout"
    public static let positionalKeys = ["rate"]
    public var name = "dropout"
    public let rate: Float
    public var needsInputGradient = true
    private var mask: [Float] = []  // 0 or 1 / (1 − rate) per value of the last training pass
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

    public init(rate: Float) {
        precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
        self.rate = rate
    }

    public struct Configuration: Codable, Sendable, Equatable { public var rate: Float }
    public var configuration: Configuration { Configuration(rate: rate) }
    public convenience init(configuration: Configuration) throws {
        guard configuration.rate >= 0, configuration.rate < 1 else {
            throw ShapeError("dropout rate must be in [0, 1), got \(configuration.rate)")
        }
        self.init(rate: configuration.rate)
    }

    /// Step by step (drops values, not steps): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        guard context.training, rate > 0 else {
            mask = []
            return input
        }
        let samples = input.shape.first ?? 1
        mask = drawMask(samples: samples, perSample: input.count / max(samples, 1), context: context)
        backend = context.backend
        return backend.multiply(input, by: mask)
    }

    /// A training pass's mask from the layer's stream: 0 with probability `rate`, else 1 / (1 − rate)
    /// (the GPU's form draws the same).
    func drawMask(samples: Int, perSample: Int, context: ForwardContext) -> [Float] {
        let keep = 1 / (1 - rate), threshold = Double(rate)
        return context.draws(for: self, samples: samples, perSample: perSample) { generator in
            generator.nextUnitDouble() < threshold ? 0 : keep
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard !mask.isEmpty else { return outputGradient }
        precondition(mask.count == outputGradient.count, "\(name): gradient \(outputGradient.shape) does not match the last pass")
        return backend.multiply(outputGradient, by: mask)
    }
}

extension Dropout: PyTorchConvertible {
    /// `nn.Dropout(p)`: inverted dropout too, the identity in `eval()`.
    public func pyTorchModules() throws -> [PyTorchModule] { [PyTorchModule("nn.Dropout(\(rate))")] }
}
