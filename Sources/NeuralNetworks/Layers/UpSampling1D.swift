/// Repeats each step `size` times (Keras `UpSampling1D`; PyTorch's `nn.Upsample` on `[N, C, L]`):
/// inputs `[steps, features]`, outputs `[steps · size, features]`; backward, each step's
/// gradient is the sum over its repeats. It is an ``UpSampling2D`` (nearest, 1 × size) over a
/// one-row image, as ``Conv1D`` is a ``Conv2D``, and shares that layer's passes and GPU form. It
/// changes what a step is: padded sequences are refused.
public final class UpSampling1D: OneRowLayer {
    public static let typeName = "UpSampling1D"
    public static let positionalKeys = ["size"]
    public static let specAliases = ["upsample1d"]
    public let images: UpSampling2D
    public var size: Int { images.size.width }

    public init(size: Int = 2) {
        images = UpSampling2D(size: Size2D(1, size))
        images.name = "up_sampling1d"
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var size: Int?
    }
    public var configuration: Configuration { Configuration(size: size) }
    public convenience init(configuration c: Configuration) throws {
        let size = c.size ?? 2
        guard (1...UpSampling2D.largestFactor).contains(size) else {
            throw ShapeError("UpSampling1D: size \(size) must be a whole factor in 1...\(UpSampling2D.largestFactor)")
        }
        self.init(size: size)
    }
}
