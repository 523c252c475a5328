/// A 1-D convolution over sequences (Keras `Conv1D`; PyTorch's `nn.Conv1d` on `[N, C, L]`):
/// inputs `[steps, channels]`, outputs `[outSteps, filters]`, kernel `kernelSize` steps wide;
/// padding `valid`, `same` or `causal` (the start padded, so no step sees later ones).
/// It is a ``Conv2D`` over a one-row image (`[1, steps, channels]`, a 1×k window), so it shares
/// that layer's passes: its `kernel` is `[1, k, channels, filters]` (Keras' `[k, channels,
/// filters]` with a leading 1), `bias` `[filters]`.
public final class Conv1D: ThreadedLayer {
    public static let typeName = "Conv1D"
    public static let positionalKeys = ["filters", "kernel_size", "activation"]
    public static let specKeyAliases = ["stride": "strides", "dilation": "dilation_rate"]
    public var name = "conv1d" {
        didSet { convolution.name = name }
    }
    let convolution: Conv2D  // its passes (and the GPU form's)
    private var inputShape: [Int] = []
    public var kernel: Parameter! { convolution.kernel }
    public var bias: Parameter? { convolution.bias }
    public var needsInputGradient: Bool {
        get { convolution.needsInputGradient }
        set { convolution.needsInputGradient = newValue }
    }
    public var threads: Int {
        get { convolution.threads }
        set { convolution.threads = newValue }
    }

    public init(filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, dilationRate: Int = 1,
                activation: Activation = .linear, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                biasInitializer: Initializer = .zeros) {
        convolution = Conv2D(filters: filters, kernelSize: Size2D(1, kernelSize), strides: Size2D(1, strides), padding: padding,
                             dilationRate: Size2D(1, dilationRate), activation: activation, useBias: useBias,
                             kernelInitializer: kernelInitializer, biasInitializer: biasInitializer)
        convolution.name = name
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var filters: Int
        public var kernelSize: Int
        public var strides: Int?
        public var padding: Padding?
        public var dilationRate: Int?
        public var activation: Activation?
        public var useBias: Bool?
        public var kernelInitializer: Initializer?
        public var biasInitializer: Initializer?
        enum CodingKeys: String, CodingKey {
            case filters, kernelSize = "kernel_size", strides, padding, dilationRate = "dilation_rate", activation
            case useBias = "use_bias", kernelInitializer = "kernel_initializer", biasInitializer = "bias_initializer"
        }
    }

    public var configuration: Configuration {
        let c = convolution
        return Configuration(filters: c.filters, kernelSize: c.kernelSize.width, strides: c.strides.width, padding: c.padding,
                             dilationRate: c.dilationRate.width, activation: c.activation, useBias: c.useBias,
                             kernelInitializer: c.kernelInitializer, biasInitializer: c.biasInitializer)
    }

    public convenience init(configuration c: Configuration) throws {
        let (strides, dilation) = (c.strides ?? 1, c.dilationRate ?? 1)
        guard c.filters > 0, c.kernelSize > 0, strides > 0, dilation > 0 else {
            throw ShapeError("Conv1D needs positive filters, kernel size, strides and dilation, got \(c.filters), "
                             + "\(c.kernelSize), \(strides), \(dilation)")
        }
        guard c.activation != .softmax else { throw ShapeError("Conv1D: softmax over filters is not an element-wise activation") }
        self.init(filters: c.filters, kernelSize: c.kernelSize, strides: strides, padding: c.padding ?? .valid,
                  dilationRate: dilation, activation: c.activation ?? .linear, useBias: c.useBias ?? true,
                  kernelInitializer: c.kernelInitializer ?? .glorotUniform, biasInitializer: c.biasInitializer ?? .zeros)
    }

    public var parameters: [Parameter] { convolution.parameters }
    /// Where the kernel falls on the sequence, once built (as a one-row image).
    var geometry: ConvolutionGeometry { convolution.geometry }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("\(name): Conv1D needs sequences [steps, channels], got \(inputShape)")
        }
        self.inputShape = inputShape
        return Array(try convolution.build(inputShape: [1] + inputShape, context: &context).dropFirst())
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { convolution.forwardFLOPs(inputShape: [1] + inputShape) }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        convolution.workspaceValues(inputShape: [1] + inputShape, batchSize: batchSize)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        convolution.forward(input.withOneRowAxis(adding: true), context: context).withOneRowAxis(adding: false)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let gradient = convolution.backward(outputGradient.withOneRowAxis(adding: true))
        return needsInputGradient ? gradient.withOneRowAxis(adding: false) : gradient
    }
}

extension Conv1D: PyTorchConvertible {
    /// `KerasConv1d`, an `nn.Conv1d` (weight `[out, in, k]`: the kernel `[1, k, in, out]` with its
    /// axes permuted, the leading 1 dropped) reading and writing channels-last sequences
    /// (`[N, L, C]`), padded as Keras pads (`same`: the odd step at the end; `causal`: all at the
    /// start), then the activation's module.
    public func pyTorchModules() throws -> [PyTorchModule] {
        var tensors = [PyTorchTensor("weight", kernel, layout: .permuted([3, 2, 1]))]
        if let bias { tensors.append(PyTorchTensor("bias", bias)) }
        let c = convolution, g = geometry
        let code = "KerasConv1d(\(g.channels), \(c.filters), \(c.kernelSize.width), stride=\(c.strides.width), "
            + "dilation=\(c.dilationRate.width), pads=(\(g.padLeft), \(g.padRight))\(c.useBias ? "" : ", bias=False"))"
        let module = PyTorchModule(code, tensors: tensors, helpers: ["KerasConv1d": """
            class KerasConv1d(nn.Conv1d):
                \"\"\"nn.Conv1d on channels-last sequences ([N, L, C]), with Keras' padding given as (start, end).\"\"\"
                def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, pads, bias=True):
                    super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation, bias=bias)
                    self.pads = pads

                def forward(self, x):
                    x = nn.functional.pad(x.permute(0, 2, 1), self.pads)
                    return super().forward(x).permute(0, 2, 1)
            """])
        return [module] + [c.activation.pyTorchModule].compactMap { $0 }
    }
}
