/// Zeros around channels-last images (Keras `ZeroPadding2D`; PyTorch's `nn.ZeroPad2d`): inputs
/// `[height, width, channels]` (or `[height, width]`, one channel), outputs
/// `[top + height + bottom, left + width + right, channels]`. Backward, the gradient's middle.
/// Before a `valid` convolution, or to bring a U-Net's up-sampled maps to the size of the skip.
public final class ZeroPadding2D: Layer {
    public static let typeName = "ZeroPadding2D"
    public static let positionalKeys = ["padding"]
    public static let specAliases = ["zeropad", "pad2d"]
    public var name = "zero_padding2d"
    public var needsInputGradient = true
    public let padding: ImageMargins
    private var inputShape: [Int] = []
    private var (height, width, channels) = (0, 0, 0)

    public init(padding: ImageMargins = ImageMargins(1)) {
        precondition(padding.isValid(), "ZeroPadding2D needs margins in 0...\(1 << 20)")
        self.padding = padding
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var padding: ImageMargins?
    }
    public var configuration: Configuration { Configuration(padding: padding) }
    public convenience init(configuration c: Configuration) throws {
        let padding = c.padding ?? ImageMargins(1)
        guard padding.isValid() else { throw ShapeError("ZeroPadding2D: padding \(padding) must be in 0...\(1 << 20)") }
        self.init(padding: padding)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 3 || inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
            throw ShapeError("\(name) needs images [height, width, channels] (or [height, width]), got \(inputShape)")
        }
        let channels = inputShape.count == 3 ? inputShape[2] : 1
        try ConvolutionGeometry.requireImageFits(padding.top + inputShape[0] + padding.bottom,
                                                 padding.left + inputShape[1] + padding.right, channels, layer: name)
        self.inputShape = inputShape
        (height, width, self.channels) = (inputShape[0], inputShape[1], channels)
        return [padding.top + height + padding.bottom, padding.left + width + padding.right, channels]
    }

    var outputSize: (Int, Int) { (padding.top + height + padding.bottom, padding.left + width + padding.right) }

    /// The move of this layer's images, from the sizes it was built for.
    var move: ImageMargins.Move {
        ImageMargins.Move(from: (height, width), to: outputSize, channels: channels, down: padding.top,
                          right: padding.left)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        return move.forward(input)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        return move.backward(outputGradient, inputShape: inputShape)
    }
}

extension ZeroPadding2D: PyTorchConvertible {
    /// `KerasZeroPad2d`: `F.pad` of channels-last images, (left, right) columns and (top, bottom) rows.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("KerasZeroPad2d(\(padding.pyTorchPads))", helpers: ["KerasZeroPad2d": """
            class KerasZeroPad2d(nn.Module):
                \"\"\"Keras' ZeroPadding2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel).\"\"\"
                def __init__(self, pads):
                    super().__init__()
                    self.pads = pads

                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    return nn.functional.pad(x, self.pads)
            """])]
    }
}
