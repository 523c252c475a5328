/// The mean of each window of steps, channel by channel (Keras `AveragePooling1D`; PyTorch's
/// `nn.AvgPool1d` on `[N, C, L]`; a `same` border window averages the values it holds): inputs
/// `[steps, channels]`, windows of `poolSize` steps moved by `strides` (the pool size by default),
/// `valid` or `same` padding. It is an ``AveragePooling2D`` over a one-row image (a 1×k window),
/// as ``Conv1D`` is a ``Conv2D``, so it shares that layer's passes and GPU form. It changes what a
/// step is: padded sequences are refused.
public final class AveragePooling1D: ThreadedLayer {
    public static let typeName = "AveragePooling1D"
    public static let positionalKeys = ["pool_size", "strides"]
    public static let specAliases = ["avgpool1d"]
    public static let specKeyAliases = ["stride": "strides"]
    public var name = "average_pooling1d" {
        didSet { pooling.name = name }
    }
    let pooling: AveragePooling2D  // its passes (and the GPU form's)
    public var needsInputGradient: Bool {
        get { pooling.needsInputGradient }
        set { pooling.needsInputGradient = newValue }
    }
    public var threads: Int {
        get { pooling.threads }
        set { pooling.threads = newValue }
    }

    public init(poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid) {
        precondition(poolSize > 0 && (strides ?? 1) > 0, "AveragePooling1D needs positive sizes")
        pooling = AveragePooling2D(poolSize: Size2D(1, poolSize), strides: Size2D(1, strides ?? poolSize), padding: padding)
        pooling.name = name
    }

    public var configuration: Pooling1DConfiguration {
        Pooling1DConfiguration(poolSize: pooling.poolSize.width, strides: pooling.strides.width, padding: pooling.padding)
    }

    public convenience init(configuration c: Pooling1DConfiguration) throws {
        let (pool, strides, padding) = try c.oneRow(for: Self.typeName)
        self.init(poolSize: pool.width, strides: strides?.width, padding: padding)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("\(name): AveragePooling1D needs sequences [steps, channels], got \(inputShape)")
        }
        try Pooling1DConfiguration.checkFits(pool: pooling.poolSize.width, padding: pooling.padding, steps: inputShape[0],
                                             layer: name)
        return Array(try pooling.build(inputShape: [1] + inputShape, context: &context).dropFirst())
    }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        pooling.workspaceValues(inputShape: [1] + inputShape, batchSize: batchSize)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        pooling.forward(input.withOneRowAxis(adding: true), context: context).withOneRowAxis(adding: false)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let gradient = pooling.backward(outputGradient.withOneRowAxis(adding: true))
        return needsInputGradient ? gradient.withOneRowAxis(adding: false) : gradient
    }
}

extension AveragePooling1D: PyTorchConvertible {
    /// The 2-D layer's module on one-row images (`OneRow`, a helper).
    public func pyTorchModules() throws -> [PyTorchModule] { try pooling.pyTorchModules().map(PyTorchModule.oneRow) }
}
