import NeuralNetworks

/// Sign descent with momentum (signSGD / Lion's update without its interpolation): each value
/// moves by the learning rate against the sign of its momentum; an optimizer written outside
/// the library, with a state slot that checkpoints keep.
final class SignSGD: Optimizer {
    static let typeName = "SignSGD"
    static let slotNames = ["momentum"]
    let learningRate: Float
    let beta: Float
    var iterations = 0
    let state = OptimizerState()

    init(learningRate: Float, beta: Float = 0.9) {
        self.learningRate = learningRate
        self.beta = beta
    }

    struct Configuration: Codable, Sendable {
        var learningRate: Float
        var beta: Float
        enum CodingKeys: String, CodingKey { case learningRate = "learning_rate", beta }
    }
    var configuration: Configuration { Configuration(learningRate: learningRate, beta: beta) }
    convenience init(configuration: Configuration) { self.init(learningRate: configuration.learningRate, beta: configuration.beta) }

    func learningRate(iteration: Int) -> Float { learningRate }

    func update(_ parameters: [Parameter]) {
        for parameter in parameters where parameter.isTrainable {
            let m = state.slot("momentum", for: parameter)
            for k in 0..<parameter.count {
                m[k] = beta * m[k] + (1 - beta) * parameter.gradients[k]
                parameter.values[k] -= learningRate * (m[k] > 0 ? 1 : m[k] < 0 ? -1 : 0)
            }
        }
        iterations += 1
    }
}
