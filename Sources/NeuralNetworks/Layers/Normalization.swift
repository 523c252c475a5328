/// Standardises its inputs with statistics of the training data, `(x − mean) / max(√variance, 1e-7)`
/// (Keras `Normalization`): ``adapt(to:batchSize:)`` computes them, and they are saved in the model file as
/// buffers, so that evaluation and prediction apply what training did (`nn train --normalize`).
///
/// With `perFeature` (the default, Keras' `axis=-1`) there is one mean and variance per value of
/// the last axis (a table's columns, an image's colour channels); without, one for all values.
public final class Normalization: Layer {
    public static let typeName = "Normalization"
    public var name = "normalization"
    public let perFeature: Bool
    public private(set) var mean: Parameter!
    public private(set) var variance: Parameter!
    public var needsInputGradient = true
    private var scale: [Float] = []  // 1 / max(√variance, ε), from the buffers at each forward pass

    public static let epsilon: Float = 1e-7

    public init(perFeature: Bool = true) { self.perFeature = perFeature }

    public struct Configuration: Codable, Sendable, Equatable {
        public var perFeature: Bool?
        enum CodingKeys: String, CodingKey { case perFeature = "per_feature" }
    }
    public var configuration: Configuration { Configuration(perFeature: perFeature) }
    public convenience init(configuration: Configuration) throws { self.init(perFeature: configuration.perFeature ?? true) }

    public var parameters: [Parameter] { [mean, variance].compactMap { $0 } }

    /// Step by step (fixed statistics, each value alone): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else {
            throw ShapeError("\(name): Normalization needs inputs with at least one axis, got \(inputShape)")
        }
        let width = perFeature ? last : 1
        mean = try context.parameter("mean", shape: [width], initializer: .zeros, trainable: false)
        variance = try context.parameter("variance", shape: [width], initializer: .ones, trainable: false)
        return inputShape
    }

    /// Sets the mean and variance (population, as Keras' `adapt`) to those of `data`'s inputs,
    /// read in batches (a data set on disk is streamed, not loaded).
    public func adapt(to data: Dataset, batchSize: Int = 1024) throws {
        precondition(mean != nil, "build the layer before adapting it")
        let width = mean.count
        precondition(data.sampleShape.last.map { perFeature ? $0 == width : true } ?? false, "data do not fit the layer")
        // Sums of differences from the first sample's values: one pass, without the cancellation
        // of raw sums of squares.
        var shift = [Double](repeating: 0, count: width)
        var sums = [Double](repeating: 0, count: width), squares = [Double](repeating: 0, count: width)
        var counts = [Double](repeating: 0, count: width)
        var start = 0
        while start < data.count {
            let end = min(start + batchSize, data.count)
            let values = try data.inputs.tensor(Array(start..<end)).scalars
            if start == 0 { for k in 0..<width { shift[k] = Double(values[k % values.count]) } }
            for (index, value) in values.enumerated() {
                let feature = perFeature ? index % width : 0
                let difference = Double(value) - shift[feature]
                sums[feature] += difference
                squares[feature] += difference * difference
                counts[feature] += 1
            }
            start = end
        }
        var means = [Float](repeating: 0, count: width), variances = [Float](repeating: 0, count: width)
        for k in 0..<width {
            let meanDifference = sums[k] / counts[k]
            means[k] = Float(shift[k] + meanDifference)
            variances[k] = Float(max(squares[k] / counts[k] - meanDifference * meanDifference, 0))
        }
        mean.tensor = Tensor(shape: [width], scalars: means)
        variance.tensor = Tensor(shape: [width], scalars: variances)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        let width = mean.count
        scale = variance.tensor.scalars.map { 1 / max($0.squareRoot(), Self.epsilon) }
        let means = mean.tensor.scalars
        return Tensor(shape: input.shape) { output in
            input.scalars.withUnsafeBufferPointer { x in
                for index in 0..<input.count {
                    let feature = index % width
                    output[index] = (x[index] - means[feature]) * scale[feature]
                }
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let width = scale.count
        return Tensor(shape: outputGradient.shape) { dx in
            outputGradient.scalars.withUnsafeBufferPointer { dy in
                for index in 0..<outputGradient.count { dx[index] = dy[index] * scale[index % width] }
            }
        }
    }
}

extension Normalization: PyTorchConvertible {
    /// A module with the same buffers (`mean`, `variance`) and formula.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("Normalization(\(mean.count))",
                       tensors: [PyTorchTensor("mean", mean), PyTorchTensor("variance", variance)],
                       helpers: ["Normalization": """
            class Normalization(nn.Module):
                \"\"\"Keras' Normalization: (x - mean) / max(sqrt(variance), 1e-7), statistics of the training data.\"\"\"
                def __init__(self, features):
                    super().__init__()
                    self.register_buffer("mean", torch.zeros(features))
                    self.register_buffer("variance", torch.ones(features))

                def forward(self, x):
                    return (x - self.mean) / torch.clamp(self.variance.sqrt(), min=1e-7)
            """])]
    }
}
