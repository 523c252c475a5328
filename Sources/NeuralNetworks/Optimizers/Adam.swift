import Foundation

/// Adam (Kingma & Ba), as PyTorch's `torch.optim.Adam`, and AdamW with `decoupledWeightDecay`
/// (`torch.optim.AdamW`). Per update `t` (1-based here), with `lr_t` from the schedule:
///
///     g  = g + weightDecay · p                     (Adam's L2; AdamW instead: p −= lr_t · weightDecay · p)
///     m  = β1 · m + (1 − β1) · g;   v = β2 · v + (1 − β2) · g²
///     p −= lr_t · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
///
/// (The reference C++ library divides by the constants (1 − β) instead of (1 − βᵗ); see
/// `docs/optimizers.md`.)
public final class Adam: ScheduledOptimizer {
    public static let typeName = "Adam"
    public static let slotNames = ["m", "v"]
    public static var specDefaults: Configuration? { Adam().configuration }
    /// `adamw`: PyTorch's AdamW, with its default weight decay.
    public static var specAliases: [String: String] { ["adamw": "decoupled_weight_decay=true, weight_decay=0.01"] }
    public let learningRate, beta1, beta2, epsilon, weightDecay: Float
    public let decoupledWeightDecay: Bool
    public let schedule: LearningRateSchedule
    public var iterations = 0
    public let state = OptimizerState()

    public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupledWeightDecay: Bool = false, schedule: LearningRateSchedule = .constant) {
        precondition([learningRate, epsilon, weightDecay].allSatisfy { $0.isFinite && $0 >= 0 }
                     && (0..<1).contains(beta1) && (0..<1).contains(beta2) && (try? schedule.validate()) != nil,
                     "Adam needs finite learning rate, epsilon and weight decay ≥ 0, betas in [0, 1) and a valid schedule")
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.schedule = schedule
    }

    /// AdamW: Adam with decoupled weight decay (PyTorch's default weight decay 0.01).
    public static func adamW(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01,
                             schedule: LearningRateSchedule = .constant) -> Adam {
        Adam(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
             decoupledWeightDecay: true, schedule: schedule)
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, beta1, beta2, epsilon, weightDecay: Float
        public var decoupledWeightDecay: Bool
        public var schedule: LearningRateSchedule?
        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", beta1 = "beta_1", beta2 = "beta_2", epsilon
            case weightDecay = "weight_decay", decoupledWeightDecay = "decoupled_weight_decay", schedule
        }
    }

    public var configuration: Configuration {
        Configuration(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                      decoupledWeightDecay: decoupledWeightDecay, schedule: schedule == .constant ? nil : schedule)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.learningRate.isFinite, c.learningRate >= 0, c.epsilon.isFinite, c.epsilon > 0,
              c.weightDecay.isFinite, c.weightDecay >= 0,
              (0..<1).contains(c.beta1), (0..<1).contains(c.beta2) else {
            throw ShapeError("Adam needs learning rate ≥ 0, betas in [0, 1), epsilon > 0, weight decay ≥ 0")
        }
        try c.schedule?.validate()
        self.init(learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
                  weightDecay: c.weightDecay, decoupledWeightDecay: c.decoupledWeightDecay,
                  schedule: c.schedule ?? .constant)
    }

    public func update(_ parameters: [Parameter]) { update(parameters, threads: 1) }

    public func update(_ parameters: [Parameter], threads: Int) {
        let lr = currentLearningRate, (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        let t = Double(iterations + 1)
        let correction1 = Float(1 - Foundation.pow(Double(b1), t)), correction2 = Float(1 - Foundation.pow(Double(b2), t))
        let stepSize = lr / correction1, rootCorrection2 = correction2.squareRoot()
        let coupled = decoupledWeightDecay ? 0 : wd, shrink = decoupledWeightDecay ? 1 - lr * wd : 1
        ElementwiseUpdate.run(parameters, slots: ["m", "v"], state: state, threads: threads) { piece in
            let (m, v) = (piece.slots[0], piece.slots[1])
            let p = piece.parameter.values, g = piece.parameter.gradients
            for i in piece.range {
                let gi = g[i] + coupled * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                p[i] = p[i] * shrink - stepSize * m[i] / (v[i].squareRoot() / rootCorrection2 + eps)
            }
        }
        iterations += 1
    }
}
