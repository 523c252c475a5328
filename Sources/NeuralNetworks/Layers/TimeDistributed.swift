/// Applies one layer to every time step of a sequence, with the same weights (Keras
/// `TimeDistributed`): inputs `[batch, steps, …]` become `[batch · steps, …]` for the inner layer
/// and its outputs `[batch, steps, …]` again. No copy either way: a sample's steps already lie
/// one after another. Per-step outputs (`timedistributed(dense(classes, softmax))` after a
/// recurrent layer with `return_sequences`) take a loss per step, averaged over every step
/// of every sample, with targets of shape `[steps, classes]`. As the last layer it fuses with a
/// matching loss when the inner layer does (``Dense`` with softmax).
public final class TimeDistributed: OutputActivationLayer {
    public static let typeName = "TimeDistributed"
    public static let positionalKeys = ["layer"]
    public var name = "time_distributed"
    public let layer: any Layer
    private var steps = 0

    public init(_ layer: any Layer) { self.layer = layer }

    public struct Configuration: Codable, Sendable { public var layer: LayerDescription }
    public var configuration: Configuration { Configuration(layer: LayerDescription(layer)) }
    public convenience init(configuration: Configuration) throws { self.init(try configuration.layer.makeLayer()) }

    public var children: [(name: String, layer: any Layer)] { [("layer", layer)] }

    public var needsInputGradient: Bool {
        get { layer.needsInputGradient }
        set { layer.needsInputGradient = newValue }
    }

    /// The inner layer's, when it has one (so that a loss fuses with it); linear otherwise.
    public var activation: Activation { (layer as? any OutputActivationLayer)?.activation ?? .linear }

    public var lastLogits: Tensor { perSample((layer as! any OutputActivationLayer).lastLogits) }

    /// Step by step (each step alone): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count >= 2 else {
            throw ShapeError("\(name): TimeDistributed needs inputs of shape [steps, …], got \(inputShape)")
        }
        steps = inputShape[0]
        return [steps] + (try layer.build(inputShape: Array(inputShape.dropFirst()), context: &context))
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        inputShape[0] * layer.forwardFLOPs(inputShape: Array(inputShape.dropFirst()))
    }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        layer.workspaceValues(inputShape: Array(inputShape.dropFirst()), batchSize: batchSize * inputShape[0])
    }

    /// `[batch, steps, …]` as `[batch · steps, …]`.
    private func perStep(_ x: Tensor) -> Tensor {
        precondition(x.shape.count >= 3 && x.shape[1] == steps, "\(name): input \(x.shape), expected [batch, \(steps), …]")
        return Tensor(shape: [x.shape[0] * steps] + x.shape.dropFirst(2), scalars: x.scalars)
    }

    /// `[batch · steps, …]` as `[batch, steps, …]`.
    private func perSample(_ y: Tensor) -> Tensor {
        Tensor(shape: [y.shape[0] / steps, steps] + y.shape.dropFirst(), scalars: y.scalars)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        // The inner layer's samples are the steps: the sequence lengths are of another axis (a
        // pooling layer inside would read them as its own), and a data-parallel shard of samples
        // is that many steps each, in the order one process draws them.
        let inner = ForwardContext(training: context.training, backend: context.backend, streams: context.streams,
                                   stopRequested: context.stopRequested, sequenceLengths: nil,
                                   batchShard: context.batchShard.map {
                                       BatchShard(samples: ($0.samples.lowerBound * steps)..<($0.samples.upperBound * steps),
                                                  batchSize: $0.batchSize * steps)
                                   })
        return perSample(layer.forward(perStep(input), context: inner))
    }

    /// The inner layer's check, on the same values.
    public func checkInput(_ input: Tensor) throws { try layer.checkInput(input) }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        // Before a model's first weights, nothing needs this gradient, and none came (an empty one).
        if !needsInputGradient && layer.allParameters.isEmpty { return Tensor(zeros: [0]) }
        let inputGradient = layer.backward(perStep(outputGradient))
        return needsInputGradient ? perSample(inputGradient) : inputGradient
    }

    public func backward(logitsGradient: Tensor) -> Tensor {
        let inputGradient = (layer as! any OutputActivationLayer).backward(logitsGradient: perStep(logitsGradient))
        return needsInputGradient ? perSample(inputGradient) : inputGradient
    }
}

extension TimeDistributed: PyTorchConvertible {
    /// `TimeDistributed(module)`: the inner layer's modules (in an `nn.Sequential` when several)
    /// on `[batch · steps, …]`; their tensors under `module.`.
    public func pyTorchModules() throws -> [PyTorchModule] {
        let inner = try PyTorchModule.sequential([layer])
        var wrapped = PyTorchModule("TimeDistributed(\(inner.code))", helpers: ["TimeDistributed": """
            class TimeDistributed(nn.Module):
                \"\"\"Keras' TimeDistributed: the module on every step of [batch, steps, ...] with the same weights.\"\"\"
                def __init__(self, module):
                    super().__init__()
                    self.module = module

                def forward(self, x):
                    y = self.module(x.reshape(x.shape[0] * x.shape[1], *x.shape[2:]))
                    return y.reshape(x.shape[0], x.shape[1], *y.shape[1:])
            """])
        wrapped.include(inner, under: "module.")
        return [wrapped]
    }
}
