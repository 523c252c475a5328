import Foundation

/// Nadam (Dozat), Adam with Nesterov momentum, as PyTorch's `torch.optim.NAdam` and Keras'
/// `Nadam`. The momentum warms up over the updates: μ_t = β1 · (1 − ½ · 0.96^(t · ψ)), ψ =
/// `momentumDecay` (0.004), and Π_t = μ_1 ⋯ μ_t. Per update `t` (1-based), with `lr_t` from the
/// schedule:
///
///     g  = g + weightDecay · p
///     m  = β1 · m + (1 − β1) · g;   v = β2 · v + (1 − β2) · g²;   d = √(v / (1 − β2ᵗ)) + ε
///     p −= lr_t · (1 − μ_t) / (1 − Π_t) · g / d
///     p −= lr_t · μ_{t+1} / (1 − Π_t · μ_{t+1}) · m / d
public final class Nadam: ScheduledOptimizer {
    public static let typeName = "Nadam"
    public static let slotNames = ["m", "v"]
    /// Keras' learning rate, 0.001 (the init's 0.002 is PyTorch's).
    public static var specDefaults: Configuration? { Nadam(learningRate: 0.001).configuration }
    public let learningRate, beta1, beta2, epsilon, weightDecay, momentumDecay: Float
    public let schedule: LearningRateSchedule
    public var iterations = 0
    public let state = OptimizerState()
    /// Π_t for the update count it was worked out at: a product over every update so far, which a
    /// resumed run works out again from the count.
    private var product: (iterations: Int, value: Double) = (0, 1)

    public init(learningRate: Float = 0.002, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, momentumDecay: Float = 0.004, schedule: LearningRateSchedule = .constant) {
        precondition([learningRate, epsilon, weightDecay, momentumDecay].allSatisfy { $0.isFinite && $0 >= 0 }
                     && (0..<1).contains(beta1) && (0..<1).contains(beta2) && (try? schedule.validate()) != nil,
                     "Nadam needs finite learning rate, epsilon, weight decay and momentum decay ≥ 0, betas in [0, 1) "
                     + "and a valid schedule")
        (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay, self.momentumDecay, self.schedule) =
            (learningRate, beta1, beta2, epsilon, weightDecay, momentumDecay, schedule)
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, beta1, beta2, epsilon, weightDecay: Float
        public var momentumDecay: Float?
        public var schedule: LearningRateSchedule?
        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", beta1 = "beta_1", beta2 = "beta_2", epsilon
            case weightDecay = "weight_decay", momentumDecay = "momentum_decay", schedule
        }
    }

    public var configuration: Configuration {
        Configuration(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                      momentumDecay: momentumDecay, schedule: schedule == .constant ? nil : schedule)
    }

    public convenience init(configuration c: Configuration) throws {
        let momentumDecay = c.momentumDecay ?? 0.004
        guard c.learningRate.isFinite, c.learningRate >= 0, c.epsilon.isFinite, c.epsilon > 0,
              c.weightDecay.isFinite, c.weightDecay >= 0, momentumDecay.isFinite, momentumDecay >= 0,
              (0..<1).contains(c.beta1), (0..<1).contains(c.beta2) else {
            throw ShapeError("Nadam needs learning rate ≥ 0, betas in [0, 1), epsilon > 0, weight decay and momentum decay ≥ 0")
        }
        try c.schedule?.validate()
        self.init(learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon,
                  weightDecay: c.weightDecay, momentumDecay: momentumDecay, schedule: c.schedule ?? .constant)
    }

    private func momentum(_ t: Int) -> Double {
        Double(beta1) * (1 - 0.5 * Foundation.pow(0.96, Double(t) * Double(momentumDecay)))
    }

    /// Π_t. Built up one update at a time and kept, so each update adds one factor; from where
    /// μ_k is β1 to double precision (0.96^(kψ) below 2⁻⁵³: k beyond some 2·10⁵ at ψ = 0.004), or
    /// the product is 0, the rest is a power: a resumed count costs no more than that.
    private func momentumProduct(_ t: Int) -> Double {
        if product.iterations > t { product = (0, 1) }
        while product.iterations < t {
            let k = product.iterations + 1, factor = momentum(k)
            if factor == momentum(k + 1) || product.value == 0 {
                return product.value * Foundation.pow(factor, Double(t - product.iterations))
            }
            product = (k, product.value * factor)
        }
        return product.value
    }

    /// The next update's factors: of the gradient, of the moment, and √(1 − β2ᵗ) (the device's
    /// kernel reads them too).
    var factors: (gradient: Float, moment: Float, rootCorrection2: Float) {
        let t = iterations + 1
        let productT = momentumProduct(t)
        let (now, next, lr) = (momentum(t), momentum(t + 1), Double(currentLearningRate))
        let correction2 = 1 - Foundation.pow(Double(beta2), Double(t))
        return (Float(lr * (1 - now) / (1 - productT)), Float(lr * next / (1 - productT * next)),
                Float(correction2.squareRoot()))
    }

    public func update(_ parameters: [Parameter]) { update(parameters, threads: 1) }

    public func update(_ parameters: [Parameter], threads: Int) {
        let (a, b, root) = factors, (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        ElementwiseUpdate.run(parameters, slots: ["m", "v"], state: state, threads: threads) { piece in
            let (m, v) = (piece.slots[0], piece.slots[1])
            let p = piece.parameter.values, g = piece.parameter.gradients
            for i in piece.range {
                let gi = g[i] + wd * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let d = v[i].squareRoot() / root + eps
                p[i] -= a * gi / d
                p[i] -= b * m[i] / d
            }
        }
        iterations += 1
    }
}
