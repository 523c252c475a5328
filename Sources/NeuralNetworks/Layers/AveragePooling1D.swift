/// The mean of each window of steps, channel by channel (Keras `AveragePooling1D`; PyTorch's
/// `nn.AvgPool1d` on `[N, C, L]`; a `same` border window averages the values it holds): inputs
/// `[steps, channels]`, windows of `poolSize` steps moved by `strides` (the pool size by default),
/// `valid` or `same` padding. It is an ``AveragePooling2D`` over a one-row image (a 1×k window),
/// as ``Conv1D`` is a ``Conv2D``, so it shares that layer's passes and GPU form. It changes what a
/// step is: padded sequences are refused.
public final class AveragePooling1D: OneRowLayer, ThreadedLayer {
    public static let typeName = "AveragePooling1D"
    public static let positionalKeys = ["pool_size", "strides"]
    public static let specAliases = ["avgpool1d"]
    public static let specKeyAliases = ["stride": "strides"]
    public let images: AveragePooling2D

    public init(poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid) {
        precondition(poolSize > 0 && (strides ?? 1) > 0, "AveragePooling1D needs positive sizes")
        images = AveragePooling2D(poolSize: Size2D(1, poolSize), strides: Size2D(1, strides ?? poolSize), padding: padding)
        images.name = "average_pooling1d"
    }

    public var configuration: Pooling1DConfiguration {
        Pooling1DConfiguration(poolSize: images.poolSize.width, strides: images.strides.width, padding: images.padding)
    }

    public convenience init(configuration c: Pooling1DConfiguration) throws {
        let (pool, strides, padding) = try c.oneRow(for: Self.typeName)
        self.init(poolSize: pool.width, strides: strides?.width, padding: padding)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        if inputShape.count == 2 {
            try Pooling1DConfiguration.checkFits(pool: images.poolSize.width, padding: images.padding, steps: inputShape[0],
                                                 layer: name)
        }
        return try buildOneRow(inputShape: inputShape, context: &context, features: "channels")
    }
}
