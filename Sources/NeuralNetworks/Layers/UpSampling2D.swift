/// Enlarges channels-last images by whole factors (Keras `UpSampling2D`; PyTorch's `nn.Upsample`
/// with `scale_factor`): inputs `[height, width, channels]` (or `[height, width]`, one channel),
/// outputs `[height · size.height, width · size.width, channels]`. No weights: the up-sampling
/// half of an autoencoder or U-Net before a convolution (a cheaper alternative to
/// ``Conv2DTranspose``).
///
/// `nearest` repeats each pixel over its size.height × size.width block; backward, each input
/// pixel's gradient is its block's sum. `bilinear` interpolates between the two nearest input rows
/// and columns at the output pixel's centre (half-pixel centres, PyTorch's `align_corners=False`,
/// TensorFlow 2's `resize`): source `s = (o + ½) / size − ½`, clamped to the image, weights
/// `1 − (s − ⌊s⌋)` and `s − ⌊s⌋`; backward, each output's gradient goes back by the same weights.
public final class UpSampling2D: Layer {
    public static let typeName = "UpSampling2D"
    public static let positionalKeys = ["size", "interpolation"]
    public static let specAliases = ["upsample", "upsampling"]
    public var name = "up_sampling2d"
    public var needsInputGradient = true
    public let size: Size2D
    public let interpolation: Interpolation
    private var inputShape: [Int] = []
    private var (height, width, channels) = (0, 0, 0)

    public enum Interpolation: String, Sendable, NamedSetting {
        case nearest, bilinear
    }

    public init(size: Size2D = Size2D(2), interpolation: Interpolation = .nearest) {
        precondition(size.isPositive && size.height <= Self.largestFactor && size.width <= Self.largestFactor,
                     "UpSampling2D needs factors in 1...\(Self.largestFactor)")
        (self.size, self.interpolation) = (size, interpolation)
    }

    /// Far beyond any use; bounded so that output sizes cannot overflow.
    static let largestFactor = 1 << 16

    public struct Configuration: Codable, Sendable, Equatable {
        public var size: Size2D?
        public var interpolation: Interpolation?
    }
    public var configuration: Configuration { Configuration(size: size, interpolation: interpolation) }
    public convenience init(configuration c: Configuration) throws {
        let size = c.size ?? Size2D(2)
        guard size.isPositive, size.height <= Self.largestFactor, size.width <= Self.largestFactor else {
            throw ShapeError("UpSampling2D: size \(size) must be whole factors in 1...\(Self.largestFactor)")
        }
        self.init(size: size, interpolation: c.interpolation ?? .nearest)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 3 || inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }),
              inputShape[0] <= Self.largestFactor, inputShape[1] <= Self.largestFactor else {
            throw ShapeError("\(name) needs images [height, width, channels] (or [height, width]) of at most "
                             + "\(Self.largestFactor) rows and columns, got \(inputShape)")
        }
        let channels = inputShape.count == 3 ? inputShape[2] : 1
        try ConvolutionGeometry.requireImageFits(inputShape[0] * size.height, inputShape[1] * size.width, channels, layer: name)
        self.inputShape = inputShape
        (height, width, self.channels) = (inputShape[0], inputShape[1], channels)
        return [height * size.height, width * size.width, channels]
    }

    /// For output row (or column) `o` of an axis enlarged `factor` times from `count`: the two
    /// source indices and the second one's weight (bilinear; the kernels compute the same).
    @inline(__always) static func source(_ o: Int, factor: Int, count: Int) -> (first: Int, second: Int, weight: Float) {
        let s = max((Float(o) + 0.5) * (1 / Float(factor)) - 0.5, 0)
        let first = min(Int(s), count - 1)
        return (first, min(first + 1, count - 1), s - Float(first))
    }

    /// Where output row `oh` reads (nearest: its block's row, weight 0 for the second).
    private func source(row oh: Int) -> (Int, Int, Float) {
        interpolation == .nearest ? (oh / size.height, 0, 0) : Self.source(oh, factor: size.height, count: height)
    }
    private func source(column ow: Int) -> (Int, Int, Float) {
        interpolation == .nearest ? (ow / size.width, 0, 0) : Self.source(ow, factor: size.width, count: width)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        let batch = input.shape[0], (outHeight, outWidth) = (height * size.height, width * size.width)
        var output = Tensor(zeros: [batch, outHeight, outWidth, channels])
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                for n in 0..<batch {
                    let image = x.baseAddress! + n * height * width * channels
                    for oh in 0..<outHeight {
                        let rows = source(row: oh)
                        for ow in 0..<outWidth {
                            let columns = source(column: ow)
                            let target = y.baseAddress! + ((n * outHeight + oh) * outWidth + ow) * channels
                            let topLeft = image + (rows.0 * width + columns.0) * channels
                            if interpolation == .nearest {
                                for c in 0..<channels { target[c] = topLeft[c] }
                                continue
                            }
                            let topRight = image + (rows.0 * width + columns.1) * channels
                            let bottomLeft = image + (rows.1 * width + columns.0) * channels
                            let bottomRight = image + (rows.1 * width + columns.1) * channels
                            let (wy, wx) = (rows.2, columns.2)
                            for c in 0..<channels {
                                target[c] = (1 - wy) * ((1 - wx) * topLeft[c] + wx * topRight[c])
                                    + wy * ((1 - wx) * bottomLeft[c] + wx * bottomRight[c])
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        let batch = outputGradient.shape[0], (outHeight, outWidth) = (height * size.height, width * size.width)
        precondition(outputGradient.count == batch * outHeight * outWidth * channels, "\(name): gradient \(outputGradient.shape)")
        var inputGradient = Tensor(zeros: [batch] + inputShape)
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
                for n in 0..<batch {
                    let image = dx.baseAddress! + n * height * width * channels
                    for oh in 0..<outHeight {
                        let rows = source(row: oh)
                        for ow in 0..<outWidth {
                            let columns = source(column: ow)
                            let g = dy.baseAddress! + ((n * outHeight + oh) * outWidth + ow) * channels
                            if interpolation == .nearest {
                                let target = image + (rows.0 * width + columns.0) * channels
                                for c in 0..<channels { target[c] += g[c] }
                                continue
                            }
                            // The forward pass's weights of the four taps.
                            let (wy, wx) = (rows.2, columns.2)
                            func add(_ row: Int, _ column: Int, _ weight: Float) {
                                let target = image + (row * width + column) * channels
                                for c in 0..<channels { target[c] += g[c] * weight }
                            }
                            add(rows.0, columns.0, (1 - wy) * (1 - wx))
                            add(rows.0, columns.1, (1 - wy) * wx)
                            add(rows.1, columns.0, wy * (1 - wx))
                            add(rows.1, columns.1, wy * wx)
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

extension UpSampling2D: PyTorchConvertible {
    /// `KerasUpsample` on channels-last images: nearest by `repeat_interleave` (exact: PyTorch's
    /// nearest `nn.Upsample` rounds `o · (1/f)` in float, which for some factors, 41 among them,
    /// picks another row than `o / f`), bilinear by `F.interpolate` with `align_corners=False`.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("KerasUpsample((\(size.height), \(size.width)), \"\(interpolation.rawValue)\")",
                       helpers: ["KerasUpsample": """
            class KerasUpsample(nn.Module):
                \"\"\"Keras' UpSampling2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel).\"\"\"
                def __init__(self, size, mode):
                    super().__init__()
                    self.size, self.mode = size, mode

                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    if self.mode == "nearest":
                        return x.repeat_interleave(self.size[0], dim=1).repeat_interleave(self.size[1], dim=2)
                    y = nn.functional.interpolate(x.permute(0, 3, 1, 2), scale_factor=self.size, mode=self.mode,
                                                  align_corners=False)
                    return y.permute(0, 2, 3, 1)
            """])]
    }
}
