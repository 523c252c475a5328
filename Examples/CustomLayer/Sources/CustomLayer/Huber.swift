import NeuralNetworks

/// The Huber loss (PyTorch `HuberLoss`, Keras `Huber`): squared below `delta`, linear above,
/// averaged over every output; a loss written outside the library.
struct Huber: LossFunction {
    static let typeName = "huber"
    let delta: Float

    struct Configuration: Codable, Sendable { var delta: Float }
    var configuration: Configuration { Configuration(delta: delta) }
    init(delta: Float = 1) { self.delta = delta }
    init(configuration: Configuration) { self.init(delta: configuration.delta) }

    func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.dense(like: predictions)
        let n = Float(predictions.count)
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        for k in 0..<predictions.count {
            let difference = predictions.scalars[k] - t.scalars[k]
            if abs(difference) <= delta {
                total += Double(0.5 * difference * difference)
                gradient.scalars[k] = difference / n
            } else {
                total += Double(delta * (abs(difference) - 0.5 * delta))
                gradient.scalars[k] = (difference > 0 ? delta : -delta) / n
            }
        }
        return (Float(total / Double(n)), gradient)
    }
}
