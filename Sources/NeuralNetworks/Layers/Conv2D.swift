/// A 2-D convolution over channels-last images (Keras `Conv2D`; PyTorch's `nn.Conv2d` on
/// `[N, C, H, W]`): inputs `[height, width, channels]` (or `[height, width]`, one channel, as IDX
/// images arrive), outputs `[outHeight, outWidth, filters]`,
///
///     y[oh, ow, f] = activation(Σ_{ki, kj, c} x[oh·s + ki·d − pad, ow·s + kj·d − pad, c] · kernel[ki, kj, c, f] + bias[f])
///
/// `kernel` is `[kh, kw, channels, filters]` (Keras' layout). The pass is one product: the
/// windows of the whole batch are laid out as patch rows (im2col, `[N·outH·outW, kh·kw·C]`, built
/// on several threads by samples) and multiplied by the kernel seen as `[kh·kw·C, filters]`, which
/// gives the channels-last output directly; backward, one product each for the kernel gradient
/// and the patch rows' gradient, added back onto the input (col2im).
public final class Conv2D: OutputActivationLayer, ThreadedLayer {
    public static let typeName = "Conv2D"
    public static let positionalKeys = ["filters", "kernel_size", "activation"]
    public static let specAliases = ["conv"]
    public static let specKeyAliases = ["stride": "strides", "dilation": "dilation_rate"]
    public var name = "conv2d"
    public let filters: Int
    public let kernelSize: Size2D
    public let strides: Size2D
    public let padding: Padding
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

    private(set) var geometry: ConvolutionGeometry!
    private var batch = 0
    private let patches = FloatBuffer()  // [N·outH·outW, kh·kw·C]: the last pass's, then their gradient
    private var inputShape: [Int] = []
    /// Pre-activation outputs of the last forward pass.
    public private(set) var lastLogits = Tensor(zeros: [0])
    private var lastOutput = Tensor(zeros: [0])
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

    public init(filters: Int, kernelSize: Size2D, strides: Size2D = Size2D(1), padding: Padding = .valid,
                dilationRate: Size2D = Size2D(1), activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros) {
        precondition(filters > 0 && kernelSize.isPositive && strides.isPositive && dilationRate.isPositive,
                     "Conv2D needs positive filters, kernel size, strides and dilation")
        (self.filters, self.kernelSize, self.strides, self.padding, self.dilationRate) =
            (filters, kernelSize, strides, padding, dilationRate)
        (self.activation, self.useBias, self.kernelInitializer, self.biasInitializer) =
            (activation, useBias, kernelInitializer, biasInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var filters: Int
        public var kernelSize: Size2D
        public var strides: Size2D?
        public var padding: Padding?
        public var dilationRate: Size2D?
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
        Configuration(filters: filters, kernelSize: kernelSize, strides: strides, padding: padding, dilationRate: dilationRate,
                      activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                      biasInitializer: biasInitializer)
    }

    public convenience init(configuration c: Configuration) throws {
        let (strides, dilation) = (c.strides ?? Size2D(1), c.dilationRate ?? Size2D(1))
        guard c.filters > 0, c.kernelSize.isPositive, strides.isPositive, dilation.isPositive else {
            throw ShapeError("Conv2D needs positive filters, kernel size, strides and dilation, got \(c.filters), "
                             + "\(c.kernelSize), \(strides), \(dilation)")
        }
        guard c.activation != .softmax else { throw ShapeError("Conv2D: softmax over filters is not an element-wise activation") }
        self.init(filters: c.filters, kernelSize: c.kernelSize, strides: strides, padding: c.padding ?? .valid,
                  dilationRate: dilation, activation: c.activation ?? .linear, useBias: c.useBias ?? true,
                  kernelInitializer: c.kernelInitializer ?? .glorotUniform, biasInitializer: c.biasInitializer ?? .zeros)
    }

    public var parameters: [Parameter] { [kernel].compactMap { $0 } + [bias].compactMap { $0 } }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        geometry = try ConvolutionGeometry(input: inputShape, window: kernelSize, strides: strides, dilation: dilationRate,
                                           padding: padding, layer: name)
        self.inputShape = inputShape
        kernel = try context.parameter("kernel", shape: [kernelSize.height, kernelSize.width, geometry.channels, filters],
                                       initializer: kernelInitializer)
        bias = useBias ? try context.parameter("bias", shape: [filters], initializer: biasInitializer) : nil
        return geometry.outputShape + [filters]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { saturatingProduct(2, geometry.outputPositions, geometry.patchSize, filters) }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        saturatingProduct(batchSize, geometry.outputPositions, geometry.patchSize)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        backend = context.backend
        batch = input.shape[0]
        let rows = batch * geometry.outputPositions, k = geometry.patchSize
        patches.reserve(rows * k)
        input.scalars.withUnsafeBufferPointer { x in
            let (source, target) = (SendablePointer(x.baseAddress!), SendablePointer(patches.pointer))
            let parts = Parallel.split(batch, into: threads)
            Parallel.forEach(parts.count) { geometry.gatherPatches(source.pointer, samples: parts[$0], into: target.pointer) }
        }
        let logits = Tensor(shape: [batch] + geometry.outputShape + [filters]) { z in
            if let bias { backend.fillRows(z, rows: rows, width: filters, with: bias.value) }
            backend.multiply(MatrixProduct(m: rows, n: filters, k: k, a: patches.pointer, lda: k, b: kernel.value,
                                           ldb: filters, beta: bias == nil ? 0 : 1, c: z, ldc: filters), threads: threads)
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
        logitsGradient.scalars.withUnsafeBufferPointer { dzBuffer in
            let dz = dzBuffer.baseAddress!
            // kernel += patchesᵀ · dz, bias += Σ dz
            backend.multiply(MatrixProduct(transposeA: true, m: k, n: filters, k: rows, a: patches.pointer, lda: k, b: dz,
                                           ldb: filters, beta: 1, c: kernel.gradient, ldc: filters), threads: threads)
            if let bias { backend.addColumnSums(of: dz, rows: rows, width: filters, into: bias.gradient) }
            guard needsInputGradient else { return }
            // The patches' gradient, dz · kernelᵀ, over the patches themselves (no longer needed).
            backend.multiply(MatrixProduct(transposeB: true, m: rows, n: k, k: filters, a: dz, lda: filters, b: kernel.value,
                                           ldb: filters, beta: 0, c: patches.pointer, ldc: k), threads: threads)
        }
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        var inputGradient = Tensor(zeros: [batch] + inputShape)
        inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
            let (source, target) = (SendablePointer(UnsafePointer(patches.pointer)), SendablePointer(dx.baseAddress!))
            let parts = Parallel.split(batch, into: threads)
            Parallel.forEach(parts.count) { geometry.scatterPatches(source.pointer, samples: parts[$0], into: target.pointer) }
        }
        return inputGradient
    }
}

extension Conv2D: PyTorchConvertible {
    /// `KerasConv2d`, an `nn.Conv2d` (weight `[out, in, kh, kw]`, the kernel's axes permuted)
    /// reading and writing channels-last images, padded as Keras pads `same` (the extra row and
    /// column at the bottom and right), then the activation's module.
    public func pyTorchModules() throws -> [PyTorchModule] {
        var tensors = [PyTorchTensor("weight", kernel, layout: .permuted([3, 2, 0, 1]))]
        if let bias { tensors.append(PyTorchTensor("bias", bias)) }
        let g = geometry!
        let code = "KerasConv2d(\(g.channels), \(filters), (\(kernelSize.height), \(kernelSize.width)), "
            + "stride=(\(strides.height), \(strides.width)), dilation=(\(dilationRate.height), \(dilationRate.width)), "
            + "pads=\(g.pyTorchPads)\(useBias ? "" : ", bias=False"))"
        let convolution = PyTorchModule(code, tensors: tensors, helpers: ["KerasConv2d": """
            class KerasConv2d(nn.Conv2d):
                \"\"\"nn.Conv2d on channels-last images ([N, H, W, C]; [N, H, W] is one channel), with Keras'
                padding given as (left, right, top, bottom).\"\"\"
                def __init__(self, in_channels, out_channels, kernel_size, stride, dilation, pads, bias=True):
                    super().__init__(in_channels, out_channels, kernel_size, stride=stride, dilation=dilation, bias=bias)
                    self.pads = pads

                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    x = nn.functional.pad(x.permute(0, 3, 1, 2), self.pads)
                    return super().forward(x).permute(0, 2, 3, 1)
            """])
        return [convolution] + [activation.pyTorchModule].compactMap { $0 }
    }
}
