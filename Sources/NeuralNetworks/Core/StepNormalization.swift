import Foundation

/// Batch normalisation inside a recurrent layer, per time step (the reference library's recurrent
/// batch normalisation: Laurent et al. 2016's normalised input projection, with Cooijmans et al.
/// 2017's statistics per step). The layer's input projection `a = x_t · kernel` (all gates) is
/// normalised before the recurrence adds `h_{t−1} · recurrentKernel + bias`:
///
///     a ← γ ⊙ (a − μ_s) / √(σ²_s + ε) + β
///
/// In training μ_s and σ²_s are the mean and (biased) variance over the batch's real rows at
/// processing step s, and step s's moving averages follow them (`moving = momentum · moving +
/// (1 − momentum) · batch`, the variance unbiased, as Keras and PyTorch); in inference the moving
/// averages stand in. γ and β are shared by all steps; the moving statistics are one row per step,
/// saved with the weights (buffers), so a model normalises sequences of its built length.
public struct StepNormalizationSettings: Codable, Sendable, Equatable {
    public var momentum: Float
    public var epsilon: Float
    /// False for a configuration that says `batch_normalization: false`: no normalisation.
    public var isEnabled: Bool

    /// Keras' `BatchNormalization` defaults (also the reference library's).
    public init(momentum: Float = 0.99, epsilon: Float = 1e-3, isEnabled: Bool = true) {
        (self.momentum, self.epsilon, self.isEnabled) = (momentum, epsilon, isEnabled)
    }

    /// `true` or `false`, or `{"momentum": …, "epsilon": …}`.
    public init(from decoder: Decoder) throws {
        if let on = try? decoder.singleValueContainer().decode(Bool.self) {
            self.init(isEnabled: on)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(momentum: try container.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.99,
                  epsilon: try container.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-3)
        guard (0...1).contains(momentum), epsilon > 0, epsilon.isFinite else {
            throw ShapeError("batch_normalization needs a momentum in 0...1 and a positive epsilon, got \(momentum), \(epsilon)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        guard isEnabled else {
            var container = encoder.singleValueContainer()
            return try container.encode(false)
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(momentum, forKey: .momentum)
        try container.encode(epsilon, forKey: .epsilon)
    }

    enum CodingKeys: String, CodingKey { case momentum, epsilon }

    /// The settings a layer runs with: nil when off.
    var enabled: StepNormalizationSettings? { isEnabled ? self : nil }
}

/// The per-step normalisation of one recurrent layer: its parameters and the passes over its
/// time-major input projection `[steps, batch, width]` (see ``StepNormalizationSettings``).
final class StepNormalization {
    let settings: StepNormalizationSettings
    let gamma: Parameter, beta: Parameter
    let movingMean: Parameter, movingVariance: Parameter  // [steps, width]
    let width: Int, steps: Int
    private let normalized = FloatBuffer()        // [steps, batch, width]: x̂ of the last training pass
    private let inverseDeviation = FloatBuffer()  // [steps, width]: 1 / √(σ² + ε)
    private var realRows: [[Int]] = []            // per step, the rows its statistics came from

    init(settings: StepNormalizationSettings, width: Int, steps: Int, context: inout BuildContext) throws {
        (self.settings, self.width, self.steps) = (settings, width, steps)
        gamma = try context.parameter("gamma", shape: [width], initializer: .ones)
        beta = try context.parameter("beta", shape: [width], initializer: .zeros)
        movingMean = try context.parameter("moving_mean", shape: [steps, width], initializer: .zeros, trainable: false)
        movingVariance = try context.parameter("moving_variance", shape: [steps, width], initializer: .ones, trainable: false)
    }

    var parameters: [Parameter] { [gamma, beta, movingMean, movingVariance] }

    private let projectionGradient = FloatBuffer()  // [steps, batch, width]

    /// Normalises `values` (`[steps, batch, width]`, processing order) in place: batch statistics
    /// over each step's real rows when `training` (updating the moving averages), the moving ones
    /// otherwise; then adds `bias` (the layer's own, after the normalisation) to every row.
    func forward(_ values: UnsafeMutablePointer<Float>, order: StepOrder, batch: Int, training: Bool,
                 adding bias: UnsafePointer<Float>?) {
        normalize(values, order: order, batch: batch, training: training)
        guard let bias else { return }
        for row in 0..<(order.steps * batch) {
            let v = values + row * width
            for j in 0..<width { v[j] += bias[j] }
        }
    }

    /// Inference on `rows` rows of processing step `s` alone (`[rows, width]`, in place), with the
    /// step's moving statistics: for layers that run a sequence step by step.
    func normalizeStep(_ values: UnsafeMutablePointer<Float>, rows: Int, step s: Int) {
        precondition(s < steps, "a recurrent layer normalised per step reads at most its \(steps) built steps")
        BatchNormalizationMath.inferenceForward(values, count: rows, width: width, gamma: gamma.value, beta: beta.value,
                                                epsilon: settings.epsilon, movingMean: movingMean.value + s * width,
                                                movingVariance: movingVariance.value + s * width)
    }

    /// The gradient with respect to the (unnormalised) projection, from `preActivationGradient`
    /// (`[steps, batch, width]`, left as it is: the recurrence and bias gradients read it too).
    func backward(_ preActivationGradient: UnsafePointer<Float>, steps: Int, batch: Int) -> UnsafePointer<Float> {
        projectionGradient.reserve(steps * batch * width)
        projectionGradient.pointer.update(from: preActivationGradient, count: steps * batch * width)
        backward(projectionGradient.pointer, batch: batch)
        return UnsafePointer(projectionGradient.pointer)
    }

    private func normalize(_ values: UnsafeMutablePointer<Float>, order: StepOrder, batch: Int, training: Bool) {
        precondition(order.steps <= steps, "a recurrent layer normalised per step reads at most its \(steps) built steps")
        if training {
            normalized.reserve(order.steps * batch * width)
            inverseDeviation.reserve(order.steps * width)
            realRows = (0..<order.steps).map { s in (0..<batch).filter { !order.isPadding(s, $0) } }
        }
        for s in 0..<order.steps {
            let step = values + s * batch * width
            if training {
                BatchNormalizationMath.trainingForward(
                    step, count: batch, statisticsOf: realRows[s], width: width, gamma: gamma.value, beta: beta.value,
                    epsilon: settings.epsilon, momentum: settings.momentum, movingMean: movingMean.value + s * width,
                    movingVariance: movingVariance.value + s * width, normalized: normalized.pointer + s * batch * width,
                    inverse: inverseDeviation.pointer + s * width)
            } else {
                normalizeStep(step, rows: batch, step: s)
            }
        }
    }

    /// Backward through the last training pass, in place (rows that were padding get zero).
    private func backward(_ gradients: UnsafeMutablePointer<Float>, batch: Int) {
        for (s, rows) in realRows.enumerated() {
            BatchNormalizationMath.backward(
                gradients + s * batch * width, count: batch, statisticsOf: rows, width: width, gamma: gamma.value,
                normalized: normalized.pointer + s * batch * width, inverse: inverseDeviation.pointer + s * width,
                gammaGradient: gamma.gradient, betaGradient: beta.gradient)
        }
    }
}
