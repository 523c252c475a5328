/// Stochastic gradient descent with momentum, Nesterov momentum and Keras 2's time decay.
///
/// Per update `t` (0-based), exactly as Keras 2's `SGD`:
///
///     lr_t = learningRate / (1 + decay · t)
///     v    = momentum · v − lr_t · g
///     p   += nesterov ? momentum · v − lr_t · g : v
///
/// With a constant rate this is PyTorch's `SGD(momentum:, nesterov:)` with its velocity scaled by −lr.
public final class SGD: Optimizer {
    public let learningRate: Float
    public let momentum: Float
    public let nesterov: Bool
    public let decay: Float
    public private(set) var iterations = 0
    /// Velocities by parameter name.
    private var velocities: [String: [Float]] = [:]

    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, decay: Float = 0) {
        precondition(learningRate.isFinite && learningRate >= 0, "learning rate must be finite and ≥ 0")
        precondition(momentum.isFinite && momentum >= 0, "momentum must be finite and ≥ 0")
        precondition(decay.isFinite && decay >= 0, "decay must be finite and ≥ 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.decay = decay
    }

    /// Hyperparameters and iteration count, as checkpoints store them.
    public struct Configuration: Codable, Equatable, Sendable {
        public var learningRate, momentum, decay: Float
        public var nesterov: Bool
        public var iterations: Int

        enum CodingKeys: String, CodingKey {
            case learningRate = "learning_rate", momentum, decay, nesterov, iterations
        }

        var isValid: Bool {
            learningRate.isFinite && learningRate >= 0 && momentum.isFinite && momentum >= 0
                && decay.isFinite && decay >= 0 && iterations >= 0
        }
    }

    public var configuration: Configuration {
        Configuration(learningRate: learningRate, momentum: momentum, decay: decay, nesterov: nesterov, iterations: iterations)
    }

    /// An optimizer that continues from `configuration` (velocities zero until set).
    public convenience init(_ configuration: Configuration) {
        self.init(learningRate: configuration.learningRate, momentum: configuration.momentum,
                  nesterov: configuration.nesterov, decay: configuration.decay)
        iterations = configuration.iterations
    }

    /// The velocity kept for `parameter` (zeros before its first update).
    public func velocity(for parameter: Parameter) -> [Float] {
        velocities[parameter.name] ?? [Float](repeating: 0, count: parameter.count)
    }

    public func setVelocity(_ velocity: [Float], for parameter: Parameter) {
        precondition(velocity.count == parameter.count, "velocity size does not match \(parameter.name)")
        velocities[parameter.name] = velocity
    }

    public func learningRate(iteration: Int) -> Float { learningRate / (1 + decay * Float(iteration)) }

    public func update(_ parameters: [Parameter]) {
        let lr = currentLearningRate, mu = momentum, nesterov = nesterov
        for parameter in parameters {
            var velocity = velocities.removeValue(forKey: parameter.name)
                ?? [Float](repeating: 0, count: parameter.count)
            velocity.withUnsafeMutableBufferPointer { vBuffer in
                let v = vBuffer.baseAddress!, p = parameter.value, g = parameter.gradient
                var i = 0
                let n = parameter.count
                while i < n {
                    let k = min(8, n - i)
                    let gv = VectorMath.load(g + i, count: k)
                    let vv = mu * VectorMath.load(v + i, count: k) - lr * gv
                    let step = nesterov ? mu * vv - lr * gv : vv
                    VectorMath.store(vv, v + i, count: k)
                    VectorMath.store(VectorMath.load(p + i, count: k) + step, p + i, count: k)
                    i += 8
                }
            }
            velocities[parameter.name] = velocity
        }
        iterations += 1
    }
}
