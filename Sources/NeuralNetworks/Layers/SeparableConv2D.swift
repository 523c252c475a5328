/// A depthwise convolution followed by a pointwise (1×1) one (Keras `SeparableConv2D`): each
/// channel convolved on its own with `depthMultiplier` kernels (``DepthwiseConv2D``, no bias),
/// then the channels mixed into `filters` maps with the bias and activation (``Conv2D`` 1×1, one
/// product). Far fewer weights than a full convolution: kh·kw·C·m + C·m·F against kh·kw·C·F.
/// Parameters: `depthwise.depthwise_kernel`, `pointwise.kernel`, `pointwise.bias`.
public final class SeparableConv2D: ThreadedLayer {
    public static let typeName = "SeparableConv2D"
    public static let positionalKeys = ["filters", "kernel_size", "activation"]
    public static let specAliases = ["separable"]
    public static let specKeyAliases = ["stride": "strides", "dilation": "dilation_rate"]
    public var name = "separable_conv2d"
    public let filters: Int
    public let depthwise: DepthwiseConv2D
    public let pointwise: Conv2D
    public var needsInputGradient: Bool {
        get { depthwise.needsInputGradient }
        set { depthwise.needsInputGradient = newValue }
    }
    public var threads: Int {
        get { pointwise.threads }
        set { (depthwise.threads, pointwise.threads) = (newValue, newValue) }
    }

    public init(filters: Int, kernelSize: Size2D, strides: Size2D = Size2D(1), padding: Padding = .valid,
                depthMultiplier: Int = 1, dilationRate: Size2D = Size2D(1), activation: Activation = .linear,
                useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform,
                pointwiseInitializer: Initializer = .glorotUniform) {
        self.filters = filters
        depthwise = DepthwiseConv2D(kernelSize: kernelSize, strides: strides, padding: padding, depthMultiplier: depthMultiplier,
                                    dilationRate: dilationRate, useBias: false, kernelInitializer: depthwiseInitializer)
        pointwise = Conv2D(filters: filters, kernelSize: Size2D(1), activation: activation, useBias: useBias,
                           kernelInitializer: pointwiseInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var filters: Int
        public var kernelSize: Size2D
        public var strides: Size2D?
        public var padding: Padding?
        public var depthMultiplier: Int?
        public var dilationRate: Size2D?
        public var activation: Activation?
        public var useBias: Bool?
        public var depthwiseInitializer: Initializer?
        public var pointwiseInitializer: Initializer?
        enum CodingKeys: String, CodingKey {
            case filters, kernelSize = "kernel_size", strides, padding, depthMultiplier = "depth_multiplier"
            case dilationRate = "dilation_rate", activation, useBias = "use_bias"
            case depthwiseInitializer = "depthwise_initializer", pointwiseInitializer = "pointwise_initializer"
        }
    }

    public var configuration: Configuration {
        Configuration(filters: filters, kernelSize: depthwise.kernelSize, strides: depthwise.strides, padding: depthwise.padding,
                      depthMultiplier: depthwise.depthMultiplier, dilationRate: depthwise.dilationRate,
                      activation: pointwise.activation, useBias: pointwise.useBias,
                      depthwiseInitializer: depthwise.kernelInitializer, pointwiseInitializer: pointwise.kernelInitializer)
    }

    public convenience init(configuration c: Configuration) throws {
        let (strides, dilation, multiplier) = (c.strides ?? Size2D(1), c.dilationRate ?? Size2D(1), c.depthMultiplier ?? 1)
        guard c.filters > 0, c.kernelSize.isPositive, strides.isPositive, dilation.isPositive, multiplier > 0 else {
            throw ShapeError("SeparableConv2D needs positive filters, kernel size, strides, dilation and depth multiplier")
        }
        guard c.activation != .softmax else { throw ShapeError("SeparableConv2D: softmax is not an element-wise activation") }
        self.init(filters: c.filters, kernelSize: c.kernelSize, strides: strides, padding: c.padding ?? .valid,
                  depthMultiplier: multiplier, dilationRate: dilation, activation: c.activation ?? .linear,
                  useBias: c.useBias ?? true, depthwiseInitializer: c.depthwiseInitializer ?? .glorotUniform,
                  pointwiseInitializer: c.pointwiseInitializer ?? .glorotUniform)
    }

    public var children: [(name: String, layer: any Layer)] { [("depthwise", depthwise), ("pointwise", pointwise)] }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        depthwise.name = "\(name).depthwise"
        pointwise.name = "\(name).pointwise"
        return try pointwise.build(inputShape: try depthwise.build(inputShape: inputShape, context: &context), context: &context)
    }

    /// Each part's FLOPs depend on its own geometry, which building fixed (not on `inputShape`).
    public func forwardFLOPs(inputShape: [Int]) -> Int {
        depthwise.forwardFLOPs(inputShape: inputShape) + pointwise.forwardFLOPs(inputShape: inputShape)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        pointwise.forward(depthwise.forward(input, context: context), context: context)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        depthwise.backward(pointwise.backward(outputGradient))
    }
}

extension SeparableConv2D: PyTorchConvertible {
    /// The depthwise module, then the pointwise one (and the activation).
    public func pyTorchModules() throws -> [PyTorchModule] {
        try depthwise.pyTorchModules() + pointwise.pyTorchModules()
    }
}
