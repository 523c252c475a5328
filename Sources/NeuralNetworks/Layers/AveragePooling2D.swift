/// The mean of each window, channel by channel (Keras `AveragePooling2D`; PyTorch's
/// `nn.AvgPool2d` on channels-last images): inputs `[height, width, channels]` (or `[height,
/// width]`), windows `poolSize` moved by `strides` (the pool size by default). With `same`
/// padding a border window averages the values it holds (Keras'; PyTorch's `count_include_pad=False`).
public final class AveragePooling2D: ThreadedLayer {
    public static let typeName = "AveragePooling2D"
    public static let positionalKeys = ["pool_size", "strides"]
    public static let specAliases = ["avgpool"]
    public static let specKeyAliases = ["stride": "strides"]
    public var name = "average_pooling2d"
    public let poolSize: Size2D
    public let strides: Size2D
    public let padding: Padding
    public var needsInputGradient = true
    /// Threads the pass uses, each on its own samples.
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    private var geometry: ConvolutionGeometry!
    private var inputShape: [Int] = []
    private var batch = 0

    public init(poolSize: Size2D = Size2D(2), strides: Size2D? = nil, padding: Padding = .valid) {
        precondition(poolSize.isPositive && (strides?.isPositive ?? true), "AveragePooling2D needs positive sizes")
        (self.poolSize, self.strides, self.padding) = (poolSize, strides ?? poolSize, padding)
    }

    public var configuration: PoolingConfiguration { PoolingConfiguration(poolSize: poolSize, strides: strides, padding: padding) }

    public convenience init(configuration c: PoolingConfiguration) throws {
        let (pool, strides, padding) = try c.validated(for: Self.typeName)
        self.init(poolSize: pool, strides: strides, padding: padding)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        geometry = try ConvolutionGeometry(input: inputShape, window: poolSize, strides: strides, padding: padding, layer: name)
        self.inputShape = inputShape
        return geometry.outputShape + (inputShape.count == 3 ? [geometry.channels] : [])
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        batch = input.shape[0]
        let g = geometry!
        var output = Tensor(zeros: [batch] + g.outputShape + (inputShape.count == 3 ? [g.channels] : []))
        output.scalars.withUnsafeMutableBufferPointer { y in
            input.scalars.withUnsafeBufferPointer { x in
                let (source, target) = (SendablePointer(x.baseAddress!), SendablePointer(y.baseAddress!))
                let parts = Parallel.split(batch, into: threads)
                Parallel.forEach(parts.count) { part in
                    Self.eachWindow(g, samples: parts[part]) { out, at, share in
                        for k in 0..<g.channels { target.pointer[out + k] += share * source.pointer[at + k] }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        let g = geometry!
        var inputGradient = Tensor(zeros: [batch] + inputShape)
        inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                let (source, target) = (SendablePointer(dy.baseAddress!), SendablePointer(dx.baseAddress!))
                let parts = Parallel.split(batch, into: threads)
                Parallel.forEach(parts.count) { part in
                    Self.eachWindow(g, samples: parts[part]) { out, at, share in
                        for k in 0..<g.channels { target.pointer[at + k] += share * source.pointer[out + k] }
                    }
                }
            }
        }
        return inputGradient
    }

    /// Calls `body(output offset, input offset, 1 / values in the window)` for every tap inside
    /// the image of every window of `samples`.
    private static func eachWindow(_ g: ConvolutionGeometry, samples: Range<Int>, _ body: (Int, Int, Float) -> Void) {
        for n in samples {
            for oh in 0..<g.outputHeight {
                let rows = g.tapsInside(row: oh)
                for ow in 0..<g.outputWidth {
                    let columns = g.tapsInside(column: ow)
                    let share = 1 / Float(rows.count * columns.count)
                    let out = ((n * g.outputHeight + oh) * g.outputWidth + ow) * g.channels
                    for ki in rows {
                        for kj in columns {
                            body(out, n * g.inputSize + (g.inputRow(oh, ki) * g.inputWidth + g.inputColumn(ow, kj)) * g.channels,
                                 share)
                        }
                    }
                }
            }
        }
    }
}

extension AveragePooling2D: PyTorchConvertible {
    /// `KerasAvgPool2d`: `nn.AvgPool2d` on channels-last images, Keras' `same` padding uncounted.
    public func pyTorchModules() throws -> [PyTorchModule] {
        let g = geometry!
        return [PyTorchModule("KerasAvgPool2d((\(poolSize.height), \(poolSize.width)), (\(strides.height), \(strides.width)), "
                              + "\(g.pyTorchPads))", helpers: ["KerasAvgPool2d": """
            class KerasAvgPool2d(nn.Module):
                \"\"\"Average pooling on channels-last images ([N, H, W, C]; [N, H, W] is one channel), with
                Keras' "same" padding (left, right, top, bottom) left out of each window's count.\"\"\"
                def __init__(self, kernel_size, stride, pads):
                    super().__init__()
                    self.kernel_size, self.stride, self.pads = kernel_size, stride, pads

                def forward(self, x):
                    grey = x.dim() == 3
                    x = x.unsqueeze(-1) if grey else x
                    x = x.permute(0, 3, 1, 2)
                    ones = torch.ones_like(x[:, :1])
                    sums = nn.functional.avg_pool2d(nn.functional.pad(x, self.pads), self.kernel_size, self.stride)
                    counts = nn.functional.avg_pool2d(nn.functional.pad(ones, self.pads), self.kernel_size, self.stride)
                    y = (sums / counts).permute(0, 2, 3, 1)
                    return y.squeeze(-1) if grey else y
            """])]
    }
}
