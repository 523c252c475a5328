/// Stochastic gradient descent with momentum, Nesterov momentum and a learning-rate schedule
/// (Keras 2's time decay by default, as in the reference experiment).
///
/// Per update `t` (0-based), exactly as Keras 2's `SGD`:
///
///     lr_t = schedule(learningRate, t)          (time decay: learningRate / (1 + decay · t))
///     g    = g + weightDecay · p                (L2, PyTorch's `weight_decay`)
///     v    = momentum · v − lr_t · g
///     p   += nesterov ? momentum · v − lr_t · g : v
///
/// With a constant rate this is PyTorch's `SGD(momentum:, nesterov:)` with its velocity scaled by −lr.
/// (The reference C++ library's Nesterov stores the step itself as the velocity; `docs/optimizers.md`.)
public final class SGD: ScheduledOptimizer {
    public static let typeName = "SGD"
    public static let slotNames = ["velocity"]
    public static var specDefaults: Configuration? { SGD().configuration }
    public let learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let schedule: LearningRateSchedule
    public let weightDecay: Float
    public var iterations = 0
    public let state = OptimizerState()

    /// `decay` > 0 is Keras 2's time decay; `schedule` replaces it when given.
    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, decay: Float = 0,
                schedule: LearningRateSchedule? = nil, weightDecay: Float = 0) {
        precondition(learningRate.isFinite && learningRate >= 0, "learning rate must be finite and ≥ 0")
        precondition(momentum.isFinite && momentum >= 0, "momentum must be finite and ≥ 0")
        precondition(decay.isFinite && decay >= 0, "decay must be finite and ≥ 0")
        precondition(weightDecay.isFinite && weightDecay >= 0, "weight decay must be finite and ≥ 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.schedule = schedule ?? (decay > 0 ? .timeDecay(decay) : .constant)
        self.weightDecay = weightDecay
    }

    /// Keras 2's time decay of ``schedule`` (0 for other schedules).
    public var decay: Float {
        if case .timeDecay(let d) = schedule { return d }
        return 0
    }

    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, momentum: Float
        public var decay: Float?
        public var nesterov: Bool
        public var schedule: LearningRateSchedule?
        public var weightDecay: Float?

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", momentum, decay, nesterov, schedule, weightDecay = "weight_decay"
        }
    }

    public var configuration: Configuration {
        var c = Configuration(learningRate: learningRate, momentum: momentum, decay: decay, nesterov: nesterov)
        if case .timeDecay = schedule {} else if schedule != .constant { c.schedule = schedule }
        if weightDecay > 0 { c.weightDecay = weightDecay }
        return c
    }

    public convenience init(configuration c: Configuration) throws {
        let decay = c.decay ?? 0, weightDecay = c.weightDecay ?? 0
        for (name, value) in [("learning rate", c.learningRate), ("momentum", c.momentum), ("decay", decay),
                              ("weight decay", weightDecay)] where !(value.isFinite && value >= 0) {
            throw ShapeError("SGD \(name) must be finite and ≥ 0, got \(value)")
        }
        // `decay` is a time-decay schedule: with another one beside it, one would be dropped.
        if decay > 0, c.schedule != nil {
            throw ShapeError("SGD: decay is a time-decay schedule; give decay or schedule, not both")
        }
        try c.schedule?.validate()
        self.init(learningRate: c.learningRate, momentum: c.momentum, nesterov: c.nesterov, decay: decay,
                  schedule: c.schedule, weightDecay: weightDecay)
    }

    /// The velocity kept for `parameter` (zeros before its first update).
    public func velocity(for parameter: Parameter) -> [Float] { state.values("velocity", for: parameter) }

    public func setVelocity(_ velocity: [Float], for parameter: Parameter) {
        state.setValues(velocity, "velocity", for: parameter)
    }

    public func update(_ parameters: [Parameter]) { update(parameters, threads: 1) }

    /// Without momentum no velocity is read or kept (the step is −lr·g, as in PyTorch): a third of
    /// the memory traffic of the general loop.
    public func update(_ parameters: [Parameter], threads: Int) {
        let lr = currentLearningRate, mu = momentum, nesterov = nesterov, l2 = weightDecay
        ElementwiseUpdate.run(parameters, slots: mu == 0 ? [] : ["velocity"], state: state, threads: threads) { piece in
            let p = piece.parameter.values, g = piece.parameter.gradients
            var i = piece.range.lowerBound
            while i < piece.range.upperBound {
                let k = min(8, piece.range.upperBound - i)
                var gv = VectorMath.load(g + i, count: k)
                if l2 > 0 { gv += l2 * VectorMath.load(p + i, count: k) }
                var step = -lr * gv
                if mu != 0 {
                    let v = piece.slots[0]
                    let vv = mu * VectorMath.load(v + i, count: k) + step
                    VectorMath.store(vv, v + i, count: k)
                    step = nesterov ? mu * vv - lr * gv : vv
                }
                VectorMath.store(VectorMath.load(p + i, count: k) + step, p + i, count: k)
                i += 8
            }
        }
        iterations += 1
    }
}
