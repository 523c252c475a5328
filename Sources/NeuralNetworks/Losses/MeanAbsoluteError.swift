/// Mean absolute error, `|p − t|` averaged over every output of the batch (Keras'
/// `mean_absolute_error`, PyTorch's `L1Loss()`); gradient `sign(p − t) / count`, 0 where
/// `p = t` (as PyTorch's). Class indices become one-hot rows.
public struct MeanAbsoluteError: LossFunction {
    public static let typeName = "mean_absolute_error"
    public static var specAliases: [String] { ["mae", "l1"] }
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
            total += Double(abs(difference))
            gradient.scalars[k] = difference > 0 ? 1 / n : difference < 0 ? -1 / n : 0
        }
        return (Float(total / Double(n)), gradient)
    }
}
