/// Training stopped by a numerical fault: a NaN or an infinity in the loss or in a gradient.
public struct TrainingError: Error, Equatable, CustomStringConvertible {
    public let epoch: Int
    /// 1-based batch of the epoch.
    public let batch: Int
    /// `loss`, or the parameter whose gradient is not finite (its name starts with its layer's).
    public let location: String

    public var description: String {
        let what = location == "loss" ? "the loss" : "the gradient of \(location)"
        return "\(what) is not finite (NaN or infinity) at epoch \(epoch), batch \(batch): training stopped; "
            + "try --clip-norm 1.0 or a lower --learning-rate"
    }
}

enum GradientNorm {
    /// Each parameter's squared gradient norm, in Double so that large gradients do not overflow.
    static func squaredNorms(_ parameters: [Parameter]) -> [Double] {
        parameters.map { parameter in
            var sum: Double = 0
            var partial = Vector()
            var i = 0
            while i < parameter.count {
                let g = VectorMath.load(parameter.gradient + i, count: min(8, parameter.count - i))
                partial += g * g
                i += 8
                if i % 4096 == 0 {
                    sum += Double(partial.sum())
                    partial = Vector()
                }
            }
            return sum + Double(partial.sum())
        }
    }

    /// Clamps every gradient value to [−maxValue, maxValue] (Keras' `clipvalue`, PyTorch's `clip_grad_value_`).
    static func clip(_ parameters: [Parameter], maxValue: Float) {
        for parameter in parameters {
            VectorMath.map(parameter.gradient, parameter.gradient, count: parameter.count) {
                VectorMath.minimum(VectorMath.maximum($0, -maxValue), maxValue)
            }
        }
    }

    /// Scales every gradient so that their global norm is at most `maxNorm` (PyTorch's
    /// `clip_grad_norm_`, Keras' `global_clipnorm`); returns the norm before clipping.
    @discardableResult
    static func clip(_ parameters: [Parameter], maxNorm: Float, squaredNorms: [Double]) -> Double {
        let norm = squaredNorms.reduce(0, +).squareRoot()
        guard norm > Double(maxNorm) else { return norm }
        let scale = Float(Double(maxNorm) / (norm + 1e-6))
        for parameter in parameters {
            VectorMath.map(parameter.gradient, parameter.gradient, count: parameter.count) { $0 * scale }
        }
        return norm
    }
}

/// A training step cut short by a stop request (``ForwardContext/stopRequested``): nothing was updated.
struct TrainingInterrupted: Error {}
