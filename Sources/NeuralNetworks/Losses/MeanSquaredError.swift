/// Mean squared error, `(p − t)²` averaged over every output of the batch (Keras'
/// `mean_squared_error`, PyTorch's `MSELoss()`); gradient `2 (p − t) / count`. Class indices
/// become one-hot rows (the reference's perceptron: sigmoid outputs against one-hot targets).
public struct MeanSquaredError: LossFunction {
    public static let typeName = "mean_squared_error"
    public static var specAliases: [String] { ["mse"] }
    public init() {}
    public init(configuration: NoConfiguration) {}
    public var configuration: NoConfiguration { NoConfiguration() }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.dense(like: predictions)
        let n = Float(predictions.count)
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        for k in 0..<predictions.count {
            let difference = predictions.scalars[k] - t.scalars[k]
            total += Double(difference) * Double(difference)
            gradient.scalars[k] = 2 * difference / n
        }
        return (Float(total / Double(n)), gradient)
    }
}
