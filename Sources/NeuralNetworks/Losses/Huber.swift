/// The Huber loss, averaged over every output of the batch (Keras' `Huber`, PyTorch's
/// `HuberLoss`): for x = p − t, `x² / 2` where |x| ≤ δ, else `δ · (|x| − δ / 2)`: squared near
/// the target, linear beyond δ (`delta`, 1 by default), so that outliers pull less than under
/// ``MeanSquaredError``. Gradient `x / count` inside, `δ · sign(x) / count` beyond.
public struct Huber: LossFunction {
    public static let typeName = "huber"
    public static var specAliases: [String] { ["huber_loss"] }
    public let delta: Float

    public init(delta: Float = 1) {
        precondition(delta.isFinite && delta > 0, "Huber's delta must be positive")
        self.delta = delta
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var delta: Float
        public init(delta: Float = 1) { self.delta = delta }
        public init(from decoder: Decoder) throws {
            delta = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Float.self, forKey: .delta) ?? 1
        }
    }
    public init(configuration: Configuration) throws {
        guard configuration.delta.isFinite, configuration.delta > 0 else {
            throw ShapeError("huber: delta must be a positive number, got \(configuration.delta)")
        }
        self.init(delta: configuration.delta)
    }
    public var configuration: Configuration { Configuration(delta: delta) }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.dense(like: predictions)
        let n = Float(predictions.count)
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        for k in 0..<predictions.count {
            let x = predictions.scalars[k] - t.scalars[k], size = abs(x)
            if size <= delta {
                total += 0.5 * Double(x) * Double(x)
                gradient.scalars[k] = x / n
            } else {
                total += Double(delta) * (Double(size) - 0.5 * Double(delta))
                gradient.scalars[k] = (x > 0 ? delta : -delta) / n
            }
        }
        return (Float(total / Double(n)), gradient)
    }
}
