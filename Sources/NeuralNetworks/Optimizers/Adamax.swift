import Foundation

/// Adamax (Kingma & Ba, §7.1), Adam with the infinity norm, as PyTorch's `torch.optim.Adamax`
/// (Keras' `Adamax` adds ε to u instead of to |g|). Per update `t` (1-based), with `lr_t` from
/// the schedule:
///
///     g  = g + weightDecay · p
///     m  = β1 · m + (1 − β1) · g;   u = max(β2 · u, |g| + ε)
///     p −= (lr_t / (1 − β1ᵗ)) · m / u
public final class Adamax: ScheduledOptimizer {
    public static let typeName = "Adamax"
    public static let slotNames = ["m", "u"]
    /// Keras' learning rate, 0.001 (the init's 0.002 is PyTorch's).
    public static var specDefaults: Configuration? { Adamax(learningRate: 0.001).configuration }
    public let learningRate, beta1, beta2, epsilon, weightDecay: Float
    public let schedule: LearningRateSchedule
    public var iterations = 0
    public let state = OptimizerState()

    public init(learningRate: Float = 0.002, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, schedule: LearningRateSchedule = .constant) {
        precondition([learningRate, epsilon, weightDecay].allSatisfy { $0.isFinite && $0 >= 0 }
                     && (0..<1).contains(beta1) && (0..<1).contains(beta2) && (try? schedule.validate()) != nil,
                     "Adamax needs finite learning rate, epsilon and weight decay ≥ 0, betas in [0, 1) and a valid schedule")
        (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay, self.schedule) =
            (learningRate, beta1, beta2, epsilon, weightDecay, schedule)
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, beta1, beta2, epsilon, weightDecay: Float
        public var schedule: LearningRateSchedule?
        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", beta1 = "beta_1", beta2 = "beta_2", epsilon
            case weightDecay = "weight_decay", schedule
        }
    }

    public var configuration: Configuration {
        Configuration(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                      schedule: schedule == .constant ? nil : schedule)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.learningRate.isFinite, c.learningRate >= 0, c.epsilon.isFinite, c.epsilon > 0,
              c.weightDecay.isFinite, c.weightDecay >= 0, (0..<1).contains(c.beta1), (0..<1).contains(c.beta2) else {
            throw ShapeError("Adamax needs learning rate ≥ 0, betas in [0, 1), epsilon > 0, weight decay ≥ 0")
        }
        try c.schedule?.validate()
        self.init(learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
                  weightDecay: c.weightDecay, schedule: c.schedule ?? .constant)
    }

    /// The step size of the next update, lr_t / (1 − β1ᵗ) (the device's kernel reads it too).
    var stepSize: Float {
        currentLearningRate / Float(1 - Foundation.pow(Double(beta1), Double(iterations + 1)))
    }

    public func update(_ parameters: [Parameter]) { update(parameters, threads: 1) }

    public func update(_ parameters: [Parameter], threads: Int) {
        let step = stepSize, (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        ElementwiseUpdate.run(parameters, slots: ["m", "u"], state: state, threads: threads) { piece in
            let (m, u) = (piece.slots[0], piece.slots[1])
            let p = piece.parameter.values, g = piece.parameter.gradients
            for i in piece.range {
                let gi = g[i] + wd * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                u[i] = max(b2 * u[i], abs(gi) + eps)
                p[i] -= step * m[i] / u[i]
            }
        }
        iterations += 1
    }
}
