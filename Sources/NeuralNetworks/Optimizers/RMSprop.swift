/// RMSprop as PyTorch's `torch.optim.RMSprop` (Keras 2's with `rho` = 0.9, ε = 1e-7 and no momentum):
///
///     g  = g + weightDecay · p
///     s  = ρ · s + (1 − ρ) · g²
///     b  = μ · b + g / (√s + ε)       (μ = momentum; with μ = 0, b is the step direction itself)
///     p −= lr_t · b
public final class RMSprop: ScheduledOptimizer {
    public static let typeName = "RMSprop"
    public static let slotNames = ["square_average", "momentum_buffer"]
    /// Keras' learning rate, 0.001 (the init's 0.01 is PyTorch's).
    public static var specDefaults: Configuration? { RMSprop(learningRate: 0.001).configuration }
    public let learningRate, rho, epsilon, momentum, weightDecay: Float
    public let schedule: LearningRateSchedule
    public var iterations = 0
    public let state = OptimizerState()

    public init(learningRate: Float = 0.01, rho: Float = 0.99, epsilon: Float = 1e-8, momentum: Float = 0,
                weightDecay: Float = 0, schedule: LearningRateSchedule = .constant) {
        precondition([learningRate, epsilon, momentum, weightDecay].allSatisfy { $0.isFinite && $0 >= 0 }
                     && (0..<1).contains(rho) && (try? schedule.validate()) != nil,
                     "RMSprop needs finite learning rate, epsilon, momentum and weight decay ≥ 0, rho in [0, 1) and a valid schedule")
        self.learningRate = learningRate
        self.rho = rho
        self.epsilon = epsilon
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, rho, epsilon, momentum, weightDecay: Float
        public var schedule: LearningRateSchedule?
        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", rho, epsilon, momentum, weightDecay = "weight_decay", schedule
        }
    }

    public var configuration: Configuration {
        Configuration(learningRate: learningRate, rho: rho, epsilon: epsilon, momentum: momentum,
                      weightDecay: weightDecay, schedule: schedule == .constant ? nil : schedule)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.learningRate.isFinite, c.learningRate >= 0, (0..<1).contains(c.rho), c.epsilon.isFinite, c.epsilon > 0,
              c.momentum.isFinite, c.momentum >= 0, c.weightDecay.isFinite, c.weightDecay >= 0 else {
            throw ShapeError("RMSprop needs learning rate ≥ 0, rho in [0, 1), epsilon > 0, momentum and weight decay ≥ 0")
        }
        try c.schedule?.validate()
        self.init(learningRate: c.learningRate, rho: c.rho, epsilon: c.epsilon, momentum: c.momentum,
                  weightDecay: c.weightDecay, schedule: c.schedule ?? .constant)
    }

    public func update(_ parameters: [Parameter]) { update(parameters, threads: 1) }

    public func update(_ parameters: [Parameter], threads: Int) {
        let lr = currentLearningRate, (rho, eps, mu, wd) = (rho, epsilon, momentum, weightDecay)
        ElementwiseUpdate.run(parameters, slots: ["square_average", "momentum_buffer"], state: state,
                              threads: threads) { piece in
            let (s, b) = (piece.slots[0], piece.slots[1])
            let p = piece.parameter.values, g = piece.parameter.gradients
            for i in piece.range {
                let gi = g[i] + wd * p[i]
                s[i] = rho * s[i] + (1 - rho) * gi * gi
                b[i] = mu * b[i] + gi / (s[i].squareRoot() + eps)
                p[i] -= lr * b[i]
            }
        }
        iterations += 1
    }
}
