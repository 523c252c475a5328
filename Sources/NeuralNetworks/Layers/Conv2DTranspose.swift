/// A transposed 2-D convolution over channels-last images (Keras `Conv2DTranspose`; PyTorch's
/// `nn.ConvTranspose2d`), the up-sampling half of autoencoders and U-Nets: inputs
/// `[height, width, channels]` (or `[height, width]`, one channel), outputs
/// `[outHeight, outWidth, filters]` with, per axis (Keras' rule; `span = (kernel − 1)·dilation + 1`),
///
///     valid: out = in · strides + max(span − strides, 0)      same: out = in · strides
///     with output_padding p: out = (in − 1) · strides + span − 2 · pad + p   (pad = span / 2 for same, else 0)
///
/// It is exactly the input gradient of a ``Conv2D`` from `[outHeight, outWidth, filters]` back to
/// the input's size with the same kernel, strides, dilation and padding (TensorFlow's
/// `conv2d_transpose`): each input position spreads `x · kernelᵀ` over the taps of its window,
///
///     y[h·s + ki·d − pad, w·s + kj·d − pad, f] += Σ_c x[h, w, c] · kernel[ki, kj, f, c]     (then bias, activation)
///
/// `kernel` is `[kh, kw, filters, channels]` (Keras' layout). The pass is one product, the
/// batch's input rows times the kernel seen as `[kh·kw·filters, channels]` transposed (patch rows),
/// added onto the output (col2im); backward, the output gradient's windows as patch rows
/// (im2col) give the kernel's gradient (`patchesᵀ · x`) and the input's (`patches · kernel`).
public final class Conv2DTranspose: OutputActivationLayer, ThreadedLayer {
    public static let typeName = "Conv2DTranspose"
    public static let positionalKeys = ["filters", "kernel_size", "activation"]
    public static let specAliases = ["deconv", "conv_transpose"]
    public static let specKeyAliases = ["stride": "strides", "dilation": "dilation_rate"]
    public var name = "conv2d_transpose"
    public let filters: Int
    public let kernelSize: Size2D
    public let strides: Size2D
    public let padding: Padding
    /// Rows and columns added after the output (at most strides − 1), to reach an odd size.
    public let outputPadding: Size2D?
    public let dilationRate: Size2D
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter?
    public var needsInputGradient = true
    /// Threads the patch moves and products may use.
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    /// The Conv2D this layer transposes: from the output image back to the input's positions.
    private(set) var geometry: ConvolutionGeometry!
    private var inputShape: [Int] = [], channels = 0, batch = 0
    private let patches = FloatBuffer()  // [N·H·W, kh·kw·filters]: the last pass's, then the gradient's windows
    private var lastInput = Tensor(zeros: [0])
    /// Pre-activation outputs of the last forward pass.
    public private(set) var lastLogits = Tensor(zeros: [0])
    private var lastOutput = Tensor(zeros: [0])
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

    public init(filters: Int, kernelSize: Size2D, strides: Size2D = Size2D(1), padding: Padding = .valid,
                outputPadding: Size2D? = nil, dilationRate: Size2D = Size2D(1), activation: Activation = .linear,
                useBias: Bool = true, kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros) {
        precondition(filters > 0 && kernelSize.isPositive && strides.isPositive && dilationRate.isPositive,
                     "Conv2DTranspose needs positive filters, kernel size, strides and dilation")
        precondition(activation != .softmax, "Conv2DTranspose: softmax over filters is not an element-wise activation")
        (self.filters, self.kernelSize, self.strides, self.padding, self.outputPadding, self.dilationRate) =
            (filters, kernelSize, strides, padding, outputPadding, dilationRate)
        (self.activation, self.useBias, self.kernelInitializer, self.biasInitializer) =
            (activation, useBias, kernelInitializer, biasInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var filters: Int
        public var kernelSize: Size2D
        public var strides: Size2D?
        public var padding: Padding?
        public var outputPadding: Size2D?
        public var dilationRate: Size2D?
        public var activation: Activation?
        public var useBias: Bool?
        public var kernelInitializer: Initializer?
        public var biasInitializer: Initializer?
        enum CodingKeys: String, CodingKey {
            case filters, kernelSize = "kernel_size", strides, padding, outputPadding = "output_padding"
            case dilationRate = "dilation_rate", activation, useBias = "use_bias"
            case kernelInitializer = "kernel_initializer", biasInitializer = "bias_initializer"
        }
    }

    public var configuration: Configuration {
        Configuration(filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, outputPadding: outputPadding,
                      dilationRate: dilationRate, activation: activation, useBias: useBias,
                      kernelInitializer: kernelInitializer, biasInitializer: biasInitializer)
    }

    public convenience init(configuration c: Configuration) throws {
        let (strides, dilation) = (c.strides ?? Size2D(1), c.dilationRate ?? Size2D(1))
        guard c.filters > 0, c.kernelSize.isPositive, strides.isPositive, dilation.isPositive else {
            throw ShapeError("Conv2DTranspose needs positive filters, kernel size, strides and dilation, got \(c.filters), "
                             + "\(c.kernelSize), \(strides), \(dilation)")
        }
        guard c.activation != .softmax else {
            throw ShapeError("Conv2DTranspose: softmax over filters is not an element-wise activation")
        }
        guard c.padding != .causal else { throw ShapeError("Conv2DTranspose: padding is valid or same, not causal") }
        if let p = c.outputPadding, !(0..<strides.height).contains(p.height) || !(0..<strides.width).contains(p.width) {
            throw ShapeError("Conv2DTranspose: output_padding \(p) must be at least 0 and less than the strides \(strides)")
        }
        self.init(filters: c.filters, kernelSize: c.kernelSize, strides: strides, padding: c.padding ?? .valid,
                  outputPadding: c.outputPadding, dilationRate: dilation, activation: c.activation ?? .linear,
                  useBias: c.useBias ?? true, kernelInitializer: c.kernelInitializer ?? .glorotUniform,
                  biasInitializer: c.biasInitializer ?? .zeros)
    }

    public var parameters: [Parameter] { [kernel].compactMap { $0 } + [bias].compactMap { $0 } }

    /// One axis of the output, by Keras' `deconv_output_length`.
    static func outputLength(_ input: Int, kernel: Int, stride: Int, dilation: Int, padding: Padding, outputPadding: Int?) -> Int {
        let span = (kernel - 1) * dilation + 1
        guard let outputPadding else { return padding == .valid ? input * stride + max(span - stride, 0) : input * stride }
        let pad = padding == .same ? span / 2 : 0
        return (input - 1) * stride + span - 2 * pad + outputPadding
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 3 || inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name) needs images [height, width, channels] (or [height, width]), got \(inputShape)")
        }
        guard padding != .causal else { throw ShapeError("\(name): padding is valid or same, not causal") }
        // Bounded as a convolution's window is, so that the sizes below cannot overflow.
        let limit = 1 << 20
        guard [kernelSize, strides, dilationRate, Size2D(inputShape[0], inputShape[1])].allSatisfy({ $0.height <= limit && $0.width <= limit })
        else { throw ShapeError("\(name): sizes, strides and dilation must be at most \(limit)") }
        let height = Self.outputLength(inputShape[0], kernel: kernelSize.height, stride: strides.height, dilation: dilationRate.height,
                                       padding: padding, outputPadding: outputPadding?.height)
        let width = Self.outputLength(inputShape[1], kernel: kernelSize.width, stride: strides.width, dilation: dilationRate.width,
                                      padding: padding, outputPadding: outputPadding?.width)
        guard height > 0, width > 0 else {
            throw ShapeError("\(name): a \(kernelSize) kernel with output_padding \(outputPadding.map { "\($0)" } ?? "none") "
                             + "leaves no output for \(inputShape[0])×\(inputShape[1]) images")
        }
        try ConvolutionGeometry.requireImageFits(height, width, filters, layer: name)
        let transposed = try ConvolutionGeometry(input: [height, width, filters], window: kernelSize, strides: strides,
                                                 dilation: dilationRate, padding: padding, layer: name)
        // With output_padding, Keras' size may not lead back to the input's under the convolution.
        guard transposed.outputShape == Array(inputShape.prefix(2)) else {
            throw ShapeError("\(name): output_padding \(outputPadding.map { "\($0)" } ?? "none") gives \(height)×\(width) "
                             + "outputs, from which a \(kernelSize) window does not come back to \(inputShape[0])×\(inputShape[1])")
        }
        geometry = transposed
        self.inputShape = inputShape
        channels = inputShape.count == 3 ? inputShape[2] : 1
        kernel = try context.parameter("kernel", shape: [kernelSize.height, kernelSize.width, filters, channels],
                                       initializer: kernelInitializer)
        bias = useBias ? try context.parameter("bias", shape: [filters], initializer: biasInitializer) : nil
        return [height, width, filters]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { saturatingProduct(2, geometry.outputPositions, geometry.patchSize, channels) }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        saturatingProduct(batchSize, geometry.outputPositions, geometry.patchSize)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        backend = context.backend
        batch = input.shape[0]
        lastInput = input
        let rows = batch * geometry.outputPositions, k = geometry.patchSize
        let outputRows = batch * geometry.inputHeight * geometry.inputWidth
        patches.reserve(rows * k)
        input.scalars.withUnsafeBufferPointer { x in
            // Each input position's part of every tap of its window: x · kernelᵀ.
            backend.multiply(MatrixProduct(transposeB: true, m: rows, n: k, k: channels, a: x.baseAddress!, lda: channels,
                                           b: kernel.value, ldb: channels, beta: 0, c: patches.pointer, ldc: k), threads: threads)
        }
        let logits = Tensor(shape: [batch, geometry.inputHeight, geometry.inputWidth, filters]) { y in
            if let bias {
                backend.fillRows(y, rows: outputRows, width: filters, with: bias.value)
            } else {
                y.update(repeating: 0, count: outputRows * filters)
            }
            let (source, target) = (SendablePointer(UnsafePointer(patches.pointer)), SendablePointer(y))
            let parts = Parallel.split(batch, into: threads)
            Parallel.forEach(parts.count) { geometry.scatterPatches(source.pointer, samples: parts[$0], into: target.pointer) }
        }
        lastLogits = logits
        lastOutput = backend.activate(activation, logits, threads: threads)
        return lastOutput
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(logitsGradient: backend.activationGradient(activation, input: lastLogits, output: lastOutput,
                                                            outputGradient: outputGradient, threads: threads))
    }

    public func backward(logitsGradient: Tensor) -> Tensor {
        precondition(logitsGradient.shape == lastLogits.shape, "\(name): gradient shape \(logitsGradient.shape)")
        let rows = batch * geometry.outputPositions, k = geometry.patchSize
        let outputRows = batch * geometry.inputHeight * geometry.inputWidth
        logitsGradient.scalars.withUnsafeBufferPointer { dz in
            if let bias { backend.addColumnSums(of: dz.baseAddress!, rows: outputRows, width: filters, into: bias.gradient) }
            // The gradient's windows, one patch row per input position.
            let (source, target) = (SendablePointer(dz.baseAddress!), SendablePointer(patches.pointer))
            let parts = Parallel.split(batch, into: threads)
            Parallel.forEach(parts.count) { geometry.gatherPatches(source.pointer, samples: parts[$0], into: target.pointer) }
        }
        // kernel += patchesᵀ · x
        lastInput.scalars.withUnsafeBufferPointer { x in
            backend.multiply(MatrixProduct(transposeA: true, m: k, n: channels, k: rows, a: patches.pointer, lda: k,
                                           b: x.baseAddress!, ldb: channels, beta: 1, c: kernel.gradient, ldc: channels),
                             threads: threads)
        }
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        // dx = patches · kernel
        return Tensor(shape: [batch] + inputShape) { dx in
            backend.multiply(MatrixProduct(m: rows, n: channels, k: k, a: patches.pointer, lda: k, b: kernel.value,
                                           ldb: channels, beta: 0, c: dx, ldc: channels), threads: threads)
        }
    }
}

extension Conv2DTranspose: PyTorchConvertible {
    /// `KerasConvTranspose2d`, an `nn.ConvTranspose2d` (weight `[in, out, kh, kw]`, the kernel's
    /// axes permuted) on channels-last images, unpadded, then cut to Keras' output as the
    /// convolution it transposes pads it (rows and columns from the top and left padding on;
    /// `output_padding` where Keras' output reaches past PyTorch's), then the activation's module.
    public func pyTorchModules() throws -> [PyTorchModule] {
        var tensors = [PyTorchTensor("weight", kernel, layout: .permuted([3, 2, 0, 1]))]
        if let bias { tensors.append(PyTorchTensor("bias", bias)) }
        let g = geometry!
        // PyTorch's unpadded output per axis, (in − 1)·s + span, and what Keras' reaches past it.
        let spanHeight = (kernelSize.height - 1) * dilationRate.height + 1
        let spanWidth = (kernelSize.width - 1) * dilationRate.width + 1
        let extraHeight = max(g.padTop + g.inputHeight - ((inputShape[0] - 1) * strides.height + spanHeight), 0)
        let extraWidth = max(g.padLeft + g.inputWidth - ((inputShape[1] - 1) * strides.width + spanWidth), 0)
        let code = "KerasConvTranspose2d(\(channels), \(filters), (\(kernelSize.height), \(kernelSize.width)), "
            + "stride=(\(strides.height), \(strides.width)), dilation=(\(dilationRate.height), \(dilationRate.width)), "
            + "output_padding=(\(extraHeight), \(extraWidth)), crop=(\(g.padTop), \(g.padLeft), \(g.inputHeight), "
            + "\(g.inputWidth))\(useBias ? "" : ", bias=False"))"
        let convolution = PyTorchModule(code, tensors: tensors, helpers: ["KerasConvTranspose2d": """
            class KerasConvTranspose2d(nn.ConvTranspose2d):
                \"\"\"nn.ConvTranspose2d on channels-last images ([N, H, W, C]; [N, H, W] is one channel), cut
                to Keras' output: crop = (top, left, height, width).\"\"\"
                def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, output_padding, crop, bias=True):
                    super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation,
                                     output_padding=output_padding, bias=bias)
                    self.crop = crop

                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    top, left, height, width = self.crop
                    y = super().forward(x.permute(0, 3, 1, 2))
                    return y[:, :, top:top + height, left:left + width].permute(0, 2, 3, 1)
            """])
        return [convolution] + [activation.pyTorchModule].compactMap { $0 }
    }
}
