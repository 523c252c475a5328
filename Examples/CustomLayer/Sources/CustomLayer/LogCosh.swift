import Foundation
import NeuralNetworks

/// The log-cosh loss (Keras `log_cosh`): `log(cosh(p − t))` averaged over every output, about
/// half the squared error near the target and the absolute error far from it; gradient
/// `tanh(p − t) / count`. A loss written outside the library, with a setting (`scale`, the
/// difference is divided by it first) to show that a loss's settings travel with it.
struct LogCosh: LossFunction {
    static let typeName = "log_cosh"
    let scale: Float

    struct Configuration: Codable, Sendable { var scale: Float }
    var configuration: Configuration { Configuration(scale: scale) }
    init(scale: Float = 1) { self.scale = scale }
    init(configuration: Configuration) { self.init(scale: configuration.scale) }

    func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.dense(like: predictions)
        let n = Float(predictions.count)
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        for k in 0..<predictions.count {
            let x = Double((predictions.scalars[k] - t.scalars[k]) / scale)
            // log(cosh x) = |x| + log(1 + e^(−2|x|)) − log 2, which does not overflow for large |x|.
            total += abs(x) + log1p(exp(-2 * abs(x))) - log(2)
            gradient.scalars[k] = Float(tanh(x)) / (scale * n)
        }
        return (Float(total / Double(n)), gradient)
    }
}
