/// Rows and columns cut from the edges of channels-last images (Keras `Cropping2D`): inputs
/// `[height, width, channels]` (or `[height, width]`, one channel), outputs
/// `[height − top − bottom, width − left − right, channels]`. Backward, the gradient with zeros
/// where the margins were. Brings a U-Net's skip connection to the size of the up-sampled maps.
public final class Cropping2D: Layer {
    public static let typeName = "Cropping2D"
    public static let positionalKeys = ["cropping"]
    public static let specAliases = ["crop", "crop2d"]
    public var name = "cropping2d"
    public var needsInputGradient = true
    public let cropping: ImageMargins
    private var inputShape: [Int] = []
    private var (height, width, channels) = (0, 0, 0)

    public init(cropping: ImageMargins = ImageMargins(0)) {
        precondition(cropping.isValid(), "Cropping2D needs margins in 0...\(1 << 20)")
        self.cropping = cropping
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var cropping: ImageMargins?
    }
    public var configuration: Configuration { Configuration(cropping: cropping) }
    public convenience init(configuration c: Configuration) throws {
        let cropping = c.cropping ?? ImageMargins(0)
        guard cropping.isValid() else { throw ShapeError("Cropping2D: cropping \(cropping) must be in 0...\(1 << 20)") }
        self.init(cropping: cropping)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 3 || inputShape.count == 2, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name) needs images [height, width, channels] (or [height, width]), got \(inputShape)")
        }
        let (keptHeight, keptWidth) = (inputShape[0] - cropping.top - cropping.bottom, inputShape[1] - cropping.left - cropping.right)
        guard keptHeight > 0, keptWidth > 0 else {
            throw ShapeError("\(name): cropping \(cropping) leaves nothing of \(inputShape[0])×\(inputShape[1]) images")
        }
        self.inputShape = inputShape
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape.count == 3 ? inputShape[2] : 1)
        return [keptHeight, keptWidth, channels]
    }

    var outputSize: (Int, Int) { (height - cropping.top - cropping.bottom, width - cropping.left - cropping.right) }

    /// The move of this layer's images, from the sizes it was built for.
    var move: ImageMargins.Move {
        ImageMargins.Move(from: (height, width), to: outputSize, channels: channels, down: -cropping.top,
                          right: -cropping.left)
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

extension Cropping2D: PyTorchConvertible {
    /// `KerasCrop2d`: a slice of channels-last images.
    public func pyTorchModules() throws -> [PyTorchModule] {
        let c = cropping
        return [PyTorchModule("KerasCrop2d((\(c.top), \(c.bottom), \(c.left), \(c.right)))", helpers: ["KerasCrop2d": """
            class KerasCrop2d(nn.Module):
                \"\"\"Keras' Cropping2D on channels-last images ([N, H, W, C]; [N, H, W] is one channel):
                (top, bottom, left, right) rows and columns cut.\"\"\"
                def __init__(self, cropping):
                    super().__init__()
                    self.cropping = cropping

                def forward(self, x):
                    x = x.unsqueeze(-1) if x.dim() == 3 else x
                    top, bottom, left, right = self.cropping
                    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]
            """])]
    }
}
