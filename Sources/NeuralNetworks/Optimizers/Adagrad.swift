/// Adagrad as PyTorch's `torch.optim.Adagrad` (initial accumulator 0; Keras 2's starts at 0.1 with ε = 1e-7):
///
///     g  = g + weightDecay · p
///     s += g²
///     p −= lr_t · g / (√s + ε)
public final class Adagrad: ScheduledOptimizer {
    public static let typeName = "Adagrad"
    public static let slotNames = ["sum"]
    public static var specDefaults: Configuration? { Adagrad().configuration }
    public let learningRate, epsilon, weightDecay, initialAccumulator: Float
    public let schedule: LearningRateSchedule
    public var iterations = 0
    public let state = OptimizerState()

    public init(learningRate: Float = 0.01, epsilon: Float = 1e-10, weightDecay: Float = 0,
                initialAccumulator: Float = 0, schedule: LearningRateSchedule = .constant) {
        precondition([learningRate, epsilon, weightDecay, initialAccumulator].allSatisfy { $0.isFinite && $0 >= 0 }
                     && (try? schedule.validate()) != nil,
                     "Adagrad needs finite learning rate, epsilon, weight decay and initial accumulator ≥ 0 and a valid schedule")
        self.learningRate = learningRate
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.initialAccumulator = initialAccumulator
        self.schedule = schedule
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, epsilon, weightDecay, initialAccumulator: Float
        public var schedule: LearningRateSchedule?
        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", epsilon, weightDecay = "weight_decay"
            case initialAccumulator = "initial_accumulator_value", schedule
        }
    }

    public var configuration: Configuration {
        Configuration(learningRate: learningRate, epsilon: epsilon, weightDecay: weightDecay,
                      initialAccumulator: initialAccumulator, schedule: schedule == .constant ? nil : schedule)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.learningRate.isFinite, c.learningRate >= 0, c.epsilon.isFinite, c.epsilon > 0,
              c.weightDecay.isFinite, c.weightDecay >= 0, c.initialAccumulator.isFinite, c.initialAccumulator >= 0 else {
            throw ShapeError("Adagrad needs learning rate ≥ 0, epsilon > 0, weight decay and initial accumulator ≥ 0")
        }
        try c.schedule?.validate()
        self.init(learningRate: c.learningRate, epsilon: c.epsilon, weightDecay: c.weightDecay,
                  initialAccumulator: c.initialAccumulator, schedule: c.schedule ?? .constant)
    }

    public func update(_ parameters: [Parameter]) { update(parameters, threads: 1) }

    public func update(_ parameters: [Parameter], threads: Int) {
        let lr = currentLearningRate, (eps, wd) = (epsilon, weightDecay)
        let first = iterations == 0
        ElementwiseUpdate.run(parameters, slots: ["sum"], state: state, threads: threads) { piece in
            let s = piece.slots[0], p = piece.parameter.values, g = piece.parameter.gradients
            if first && initialAccumulator > 0 {
                (s + piece.range.lowerBound).update(repeating: initialAccumulator, count: piece.range.count)
            }
            for i in piece.range {
                let gi = g[i] + wd * p[i]
                s[i] += gi * gi
                p[i] -= lr * gi / (s[i].squareRoot() + eps)
            }
        }
        iterations += 1
    }
}
