/// A 1-D convolution over sequences (Keras `Conv1D`; PyTorch's `nn.Conv1d` on `[N, C, L]`):
/// inputs `[steps, channels]`, outputs `[outSteps, filters]`, kernel `kernelSize` steps wide;
/// padding `valid`, `same` or `causal` (the start padded, so no step sees later ones).
/// It is a ``Conv2D`` over a one-row image (`[1, steps, channels]`, a 1×k window), so it shares
/// that layer's passes: its `kernel` is `[1, k, channels, filters]` (Keras' `[k, channels,
/// filters]` with a leading 1), `bias` `[filters]`. Its PyTorch module is its own (`nn.Conv1d`).
public final class Conv1D: OneRowLayer, ThreadedLayer {
    public static let typeName = "Conv1D"
    public static let positionalKeys = ["filters", "kernel_size", "activation"]
    public static let specKeyAliases = ["stride": "strides", "dilation": "dilation_rate"]
    public let images: Conv2D
    public var kernel: Parameter! { images.kernel }
    public var bias: Parameter? { images.bias }

    public init(filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, dilationRate: Int = 1,
                activation: Activation = .linear, useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform,
                biasInitializer: Initializer = .zeros) {
        images = Conv2D(filters: filters, kernelSize: Size2D(1, kernelSize), strides: Size2D(1, strides), padding: padding,
                             dilationRate: Size2D(1, dilationRate), activation: activation, useBias: useBias,
                             kernelInitializer: kernelInitializer, biasInitializer: biasInitializer)
        images.name = "conv1d"
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
        let c = images
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

    /// Where the kernel falls on the sequence, once built (as a one-row image).
    var geometry: ConvolutionGeometry { images.geometry }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        try buildOneRow(inputShape: inputShape, context: &context, features: "channels")
    }

    /// `KerasConv1d`, an `nn.Conv1d` (weight `[out, in, k]`: the kernel `[1, k, in, out]` with its
    /// axes permuted, the leading 1 dropped) reading and writing channels-last sequences
    /// (`[N, L, C]`), padded as Keras pads (`same`: the odd step at the end; `causal`: all at the
    /// start), then the activation's module.
    public func pyTorchModules() throws -> [PyTorchModule] {
        var tensors = [PyTorchTensor("weight", kernel, layout: .permuted([3, 2, 1]))]
        if let bias { tensors.append(PyTorchTensor("bias", bias)) }
        let c = images, g = geometry
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
