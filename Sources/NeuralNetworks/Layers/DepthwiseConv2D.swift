/// A convolution of each channel on its own (Keras `DepthwiseConv2D`; PyTorch's `nn.Conv2d` with
/// `groups` = channels): inputs `[height, width, channels]` (or `[height, width]`), outputs
/// `[outHeight, outWidth, channels · depthMultiplier]`, output channel `c·m + j` being channel c
/// convolved with its j-th kernel:
///
///     y[oh, ow, c·m + j] = activation(Σ_{ki, kj} x[oh·s + ki·d − pad, ow·s + kj·d − pad, c] · kernel[ki, kj, c, j] + bias[c·m + j])
///
/// `kernel` is `[kh, kw, channels, m]` (Keras' `depthwise_kernel`). There is no product to batch
/// (each tap touches one channel): the passes run directly over the channels-last rows, where a
/// tap's weights lie in output-channel order, on several threads by samples.
public final class DepthwiseConv2D: ThreadedLayer {
    public static let typeName = "DepthwiseConv2D"
    public static let positionalKeys = ["kernel_size", "activation"]
    public static let specAliases = ["depthwise"]
    public static let specKeyAliases = ["stride": "strides", "dilation": "dilation_rate"]
    public var name = "depthwise_conv2d"
    public let kernelSize: Size2D
    public let strides: Size2D
    public let padding: Padding
    public let depthMultiplier: Int
    public let dilationRate: Size2D
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter?
    public var needsInputGradient = true
    /// Threads the passes use, each on its own samples.
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    private var geometry: ConvolutionGeometry!
    private var inputShape: [Int] = []
    private var lastInput = Tensor(zeros: [0])
    private var lastLogits = Tensor(zeros: [0])
    private var lastOutput = Tensor(zeros: [0])
    private var backend: any Backend = CPUBackend()
    private let partialGradients = FloatBuffer()  // [threads − 1, kernel]: each thread's kernel gradient

    public init(kernelSize: Size2D, strides: Size2D = Size2D(1), padding: Padding = .valid, depthMultiplier: Int = 1,
                dilationRate: Size2D = Size2D(1), activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform) {
        precondition(kernelSize.isPositive && strides.isPositive && dilationRate.isPositive && depthMultiplier > 0,
                     "DepthwiseConv2D needs positive sizes and depth multiplier")
        (self.kernelSize, self.strides, self.padding, self.depthMultiplier, self.dilationRate) =
            (kernelSize, strides, padding, depthMultiplier, dilationRate)
        (self.activation, self.useBias, self.kernelInitializer) = (activation, useBias, kernelInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var kernelSize: Size2D
        public var strides: Size2D?
        public var padding: Padding?
        public var depthMultiplier: Int?
        public var dilationRate: Size2D?
        public var activation: Activation?
        public var useBias: Bool?
        public var depthwiseInitializer: Initializer?
        enum CodingKeys: String, CodingKey {
            case kernelSize = "kernel_size", strides, padding, depthMultiplier = "depth_multiplier"
            case dilationRate = "dilation_rate", activation, useBias = "use_bias", depthwiseInitializer = "depthwise_initializer"
        }
    }

    public var configuration: Configuration {
        Configuration(kernelSize: kernelSize, strides: strides, padding: padding, depthMultiplier: depthMultiplier,
                      dilationRate: dilationRate, activation: activation, useBias: useBias, depthwiseInitializer: kernelInitializer)
    }

    public convenience init(configuration c: Configuration) throws {
        let (strides, dilation, multiplier) = (c.strides ?? Size2D(1), c.dilationRate ?? Size2D(1), c.depthMultiplier ?? 1)
        guard c.kernelSize.isPositive, strides.isPositive, dilation.isPositive, multiplier > 0 else {
            throw ShapeError("DepthwiseConv2D needs positive kernel size, strides, dilation and depth multiplier")
        }
        guard c.activation != .softmax else { throw ShapeError("DepthwiseConv2D: softmax is not an element-wise activation") }
        self.init(kernelSize: c.kernelSize, strides: strides, padding: c.padding ?? .valid, depthMultiplier: multiplier,
                  dilationRate: dilation, activation: c.activation ?? .linear, useBias: c.useBias ?? true,
                  kernelInitializer: c.depthwiseInitializer ?? .glorotUniform)
    }

    public var parameters: [Parameter] { [kernel].compactMap { $0 } + [bias].compactMap { $0 } }

    private var outputChannels: Int { geometry.channels * depthMultiplier }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        geometry = try ConvolutionGeometry(input: inputShape, window: kernelSize, strides: strides, dilation: dilationRate,
                                           padding: padding, layer: name)
        self.inputShape = inputShape
        kernel = try context.parameter("depthwise_kernel",
                                       shape: [kernelSize.height, kernelSize.width, geometry.channels, depthMultiplier],
                                       initializer: kernelInitializer)
        bias = useBias ? try context.parameter("bias", shape: [outputChannels], initializer: .zeros) : nil
        return geometry.outputShape + [outputChannels]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        2 * geometry.outputPositions * kernelSize.height * kernelSize.width * outputChannels
    }

    /// Calls `body(output row offset, input pixel offset, kernel tap offset)` for each tap of each
    /// window of `samples` that falls inside the image.
    private func eachTap(samples: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let g = geometry!, width = outputChannels
        for n in samples {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    let out = ((n * g.outputHeight + oh) * g.outputWidth + ow) * width
                    for ki in 0..<g.window.height {
                        let ih = g.inputRow(oh, ki)
                        guard ih >= 0 && ih < g.inputHeight else { continue }
                        for kj in 0..<g.window.width {
                            let iw = g.inputColumn(ow, kj)
                            guard iw >= 0 && iw < g.inputWidth else { continue }
                            body(out, n * g.inputSize + (ih * g.inputWidth + iw) * g.channels, (ki * g.window.width + kj) * width)
                        }
                    }
                }
            }
        }
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        backend = context.backend
        let batch = input.shape[0], width = outputChannels, m = depthMultiplier
        let rows = batch * geometry.outputPositions
        var logits = Tensor(zeros: [batch] + geometry.outputShape + [width])
        logits.scalars.withUnsafeMutableBufferPointer { z in
            if let bias { backend.fillRows(z.baseAddress!, rows: rows, width: width, with: bias.value) }
            input.scalars.withUnsafeBufferPointer { x in
                let (source, target, weights) = (SendablePointer(x.baseAddress!), SendablePointer(z.baseAddress!),
                                                 SendablePointer(UnsafePointer(kernel.value)))
                let parts = Parallel.split(batch, into: threads)
                Parallel.forEach(parts.count) { part in
                    eachTap(samples: parts[part]) { out, at, tap in
                        let (y, x, w) = (target.pointer + out, source.pointer + at, weights.pointer + tap)
                        for q in 0..<width { y[q] += x[q / m] * w[q] }
                    }
                }
            }
        }
        lastInput = input
        lastLogits = logits
        lastOutput = backend.activate(activation, logits, threads: threads)
        return lastOutput
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let dz = backend.activationGradient(activation, input: lastLogits, output: lastOutput, outputGradient: outputGradient,
                                            threads: threads)
        let batch = lastInput.shape[0], width = outputChannels, m = depthMultiplier
        let parts = Parallel.split(batch, into: threads)
        partialGradients.reserve(max(parts.count - 1, 0) * kernel.count)
        partialGradients.zero(max(parts.count - 1, 0) * kernel.count)
        if let bias {
            dz.scalars.withUnsafeBufferPointer { backend.addColumnSums(of: $0.baseAddress!, rows: batch * geometry.outputPositions,
                                                                       width: width, into: bias.gradient) }
        }
        var inputGradient = Tensor(zeros: needsInputGradient ? [batch] + inputShape : [0])
        let computesInput = needsInputGradient
        inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
            dz.scalars.withUnsafeBufferPointer { dzBuffer in
                lastInput.scalars.withUnsafeBufferPointer { x in
                    let (gradient, source, input) = (SendablePointer(dzBuffer.baseAddress!), SendablePointer(x.baseAddress!),
                                                     SendablePointer(dx.baseAddress))
                    let (weights, own, partial) = (SendablePointer(UnsafePointer(kernel.value)), SendablePointer(kernel.gradient),
                                                   SendablePointer(partialGradients.pointer))
                    let count = kernel.count
                    Parallel.forEach(parts.count) { part in
                        // Each thread adds its samples' kernel gradient into its own buffer (the first into the parameter's).
                        let dw = part == 0 ? own.pointer : partial.pointer + (part - 1) * count
                        eachTap(samples: parts[part]) { out, at, tap in
                            let (dy, x, w, g) = (gradient.pointer + out, source.pointer + at, weights.pointer + tap, dw + tap)
                            for q in 0..<width { g[q] += x[q / m] * dy[q] }
                            if computesInput, let dxBase = input.pointer {
                                let d = dxBase + at
                                for q in 0..<width { d[q / m] += w[q] * dy[q] }
                            }
                        }
                    }
                }
            }
        }
        for part in parts.indices.dropFirst() {
            backend.add(partialGradients.pointer + (part - 1) * kernel.count, into: kernel.gradient, count: kernel.count)
        }
        return inputGradient
    }
}

extension DepthwiseConv2D: PyTorchConvertible {
    /// `KerasDepthwiseConv2d`: the grouped convolution of `nn.functional.conv2d` (groups =
    /// channels) on channels-last images, its weight kept as `[channels, m, kh, kw]` (nn.Conv2d's
    /// `[channels · m, 1, kh, kw]` in the same order), then the activation's module.
    public func pyTorchModules() throws -> [PyTorchModule] {
        var tensors = [PyTorchTensor("weight", kernel, layout: .permuted([2, 3, 0, 1]))]
        if let bias { tensors.append(PyTorchTensor("bias", bias)) }
        let g = geometry!
        let code = "KerasDepthwiseConv2d(\(g.channels), \(depthMultiplier), (\(kernelSize.height), \(kernelSize.width)), "
            + "(\(strides.height), \(strides.width)), (\(dilationRate.height), \(dilationRate.width)), "
            + "\(g.pyTorchPads), bias=\(useBias ? "True" : "False"))"
        let convolution = PyTorchModule(code, tensors: tensors, helpers: ["KerasDepthwiseConv2d": """
            class KerasDepthwiseConv2d(nn.Module):
                \"\"\"Keras' DepthwiseConv2D on channels-last images: each channel convolved with its own
                depth_multiplier kernels (weight [channels, multiplier, kh, kw]); padding (left, right, top, bottom).\"\"\"
                def __init__(self, channels, multiplier, kernel_size, stride, dilation, pads, bias=True):
                    super().__init__()
                    self.weight = nn.Parameter(torch.zeros(channels, multiplier, *kernel_size))
                    self.bias = nn.Parameter(torch.zeros(channels * multiplier)) if bias else None
                    self.channels, self.stride, self.dilation, self.pads = channels, stride, dilation, pads

                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    x = nn.functional.pad(x.permute(0, 3, 1, 2), self.pads)
                    weight = self.weight.reshape(-1, 1, *self.weight.shape[2:])
                    y = nn.functional.conv2d(x, weight, self.bias, self.stride, 0, self.dilation, self.channels)
                    return y.permute(0, 2, 3, 1)
            """])
        return [convolution] + [activation.pyTorchModule].compactMap { $0 }
    }
}
