/// The mean of each channel over the whole image (Keras `GlobalAveragePooling2D`; PyTorch's
/// `x.mean((2, 3))` on NCHW): inputs `[height, width, channels]`, outputs `[channels]`.
public final class GlobalAveragePooling2D: Layer {
    public static let typeName = "GlobalAveragePooling2D"
    public static let specAliases = ["gap", "globalavgpool"]
    public var name = "global_average_pooling2d"
    public var needsInputGradient = true
    private var inputShape: [Int] = []
    private var batch = 0

    public init() {}
    public var configuration: NoConfiguration { NoConfiguration() }
    public convenience init(configuration: NoConfiguration) throws { self.init() }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw ShapeError("\(name): GlobalAveragePooling2D needs images [height, width, channels], got \(inputShape)")
        }
        self.inputShape = inputShape
        return [inputShape[2]]
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(Array(input.shape.dropFirst()) == inputShape, "\(name): input \(input.shape), expected [batch] + \(inputShape)")
        batch = input.shape[0]
        let (positions, c) = (inputShape[0] * inputShape[1], inputShape[2])
        var output = Tensor(zeros: [batch, c])
        for n in 0..<batch {
            for p in 0..<positions {
                for k in 0..<c { output.scalars[n * c + k] += input.scalars[(n * positions + p) * c + k] }
            }
            for k in 0..<c { output.scalars[n * c + k] /= Float(positions) }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        let (positions, c) = (inputShape[0] * inputShape[1], inputShape[2])
        var inputGradient = Tensor(zeros: [batch] + inputShape)
        for n in 0..<batch {
            for p in 0..<positions {
                for k in 0..<c { inputGradient.scalars[(n * positions + p) * c + k] = outputGradient.scalars[n * c + k] / Float(positions) }
            }
        }
        return inputGradient
    }
}

extension GlobalAveragePooling2D: PyTorchConvertible {
    /// The mean over the two image axes of channels-last images.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("GlobalAveragePooling2D()", helpers: ["GlobalAveragePooling2D": """
            class GlobalAveragePooling2D(nn.Module):
                \"\"\"Keras' GlobalAveragePooling2D: the mean of each channel of [N, H, W, C] images.\"\"\"
                def forward(self, x):
                    return x.mean(dim=(1, 2))
            """])]
    }
}
