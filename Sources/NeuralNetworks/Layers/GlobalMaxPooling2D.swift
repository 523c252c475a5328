/// The largest value of each channel over the whole image (Keras `GlobalMaxPooling2D`; PyTorch's
/// `x.amax((2, 3))` on NCHW): inputs `[height, width, channels]` (or `[height, width]`, one
/// channel), outputs `[channels]`. It is a ``MaxPooling2D`` whose one window is the image, so it
/// shares that layer's passes (the gradient goes to the first largest value) and its GPU form.
public final class GlobalMaxPooling2D: ThreadedLayer {
    public static let typeName = "GlobalMaxPooling2D"
    public static let specAliases = ["gmp", "globalmaxpool"]
    public var name = "global_max_pooling2d" {
        didSet { pooling?.name = name }
    }
    /// Made when built: its window is the input's size.
    private(set) var pooling: MaxPooling2D?
    private var channels = 0
    public var needsInputGradient = true {
        didSet { pooling?.needsInputGradient = needsInputGradient }
    }
    public var threads = 1 {
        didSet { pooling?.threads = threads }
    }

    public init() {}
    public var configuration: NoConfiguration { NoConfiguration() }
    public convenience init(configuration: NoConfiguration) throws { self.init() }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 3 || inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name): GlobalMaxPooling2D needs images [height, width, channels] (or [height, width]), "
                             + "got \(inputShape)")
        }
        let pooling = MaxPooling2D(poolSize: Size2D(inputShape[0], inputShape[1]))
        (pooling.name, pooling.needsInputGradient, pooling.threads) = (name, needsInputGradient, threads)
        _ = try pooling.build(inputShape: inputShape, context: &context)
        self.pooling = pooling
        channels = inputShape.count == 3 ? inputShape[2] : 1
        return [channels]
    }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        pooling?.workspaceValues(inputShape: inputShape, batchSize: batchSize) ?? 0
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        guard let pooling else { preconditionFailure("\(name): build the layer first") }
        let pooled = pooling.forward(input, context: context)  // [N, 1, 1, C]
        return Tensor(shape: [pooled.shape[0], channels], scalars: pooled.scalars)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let pooling else { preconditionFailure("\(name): build the layer first") }
        return pooling.backward(Tensor(shape: [outputGradient.shape[0], 1, 1, channels], scalars: outputGradient.scalars))
    }
}

extension GlobalMaxPooling2D: PyTorchConvertible {
    /// The maximum over the rows and columns of channels-last `[N, H, W, C]` (`[N, H, W]`: one channel).
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("GlobalMaxPooling2D()", helpers: ["GlobalMaxPooling2D": """
            class GlobalMaxPooling2D(nn.Module):
                \"\"\"Keras' GlobalMaxPooling2D: the maximum of each channel of [N, H, W, C] over the image.\"\"\"
                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    return x.amax(dim=(1, 2))
            """])]
    }
}
