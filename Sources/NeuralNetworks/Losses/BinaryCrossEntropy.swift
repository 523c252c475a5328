import Foundation

/// Binary cross-entropy, `−[t · log p + (1 − t) · log(1 − p)]` averaged over every output of the
/// batch (Keras' `binary_crossentropy`; PyTorch's `BCEWithLogitsLoss` on logits). Targets are 0/1
/// rows (or any values in [0, 1]); class indices become one-hot rows, or the class itself with
/// one output. Fused with a final sigmoid, from the logits z: `max(z, 0) − z·t + log(1 + e^−|z|)`,
/// gradient `(σ(z) − t) / count`. Unfused, probabilities are clipped to [1e-7, 1 − 1e-7].
/// `labelSmoothing` ε trains on `t · (1 − ε) + ε / 2` (Keras' `label_smoothing`).
public struct BinaryCrossEntropy: LossFunction {
    public static let typeName = "binary_crossentropy"
    public let labelSmoothing: Float

    public init(labelSmoothing: Float = 0) {
        precondition(labelSmoothing.isFinite && (0...1).contains(labelSmoothing), "label smoothing must be in [0, 1]")
        self.labelSmoothing = labelSmoothing
    }

    /// The same settings as ``CategoricalCrossEntropy``'s.
    public typealias Configuration = CategoricalCrossEntropy.Configuration
    public init(configuration: Configuration) throws {
        self.init(labelSmoothing: try checkedLabelSmoothing(configuration.labelSmoothing, Self.typeName))
    }
    public var configuration: Configuration { Configuration(labelSmoothing: labelSmoothing) }
    public var fusedActivation: Activation? { .sigmoid }

    /// Value targets must be probabilities: outside [0, 1] the loss has no minimum and falls
    /// without end (a silently wrong run), so such targets are refused, naming the first.
    public func requireFits(_ data: Dataset, outputShape: [Int]) throws {
        guard case .values(let values) = data.targets else { return }
        let size = values.sampleShape.reduce(1, *), chunk = max(1, 65_536 / max(size, 1))
        var buffer = [Float](repeating: 0, count: chunk * size)
        for start in stride(from: 0, to: values.count, by: chunk) {
            let indices = Array(start..<min(start + chunk, values.count))
            try buffer.withUnsafeMutableBufferPointer { try values.read(indices, into: $0) }
            if let bad = buffer[0..<(indices.count * size)].firstIndex(where: { !(0...1).contains($0) }) {
                throw ShapeError("binary cross-entropy needs targets in [0, 1] (probabilities or 0/1 labels): "
                                 + "\(values.origin(of: start + bad / size)) holds \(buffer[bad])")
            }
        }
    }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.smoothed(like: predictions, amount: labelSmoothing, uniform: 0.5).dense(like: predictions)
        let n = Float(predictions.count)
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        let epsilon: Float = 1e-7
        for k in 0..<predictions.count {
            let p = predictions.scalars[k], y = t.scalars[k]
            let clipped = min(max(p, epsilon), 1 - epsilon)
            total -= Double(y) * Double(_logFloat(clipped)) + Double(1 - y) * Double(_logFloat(1 - clipped))
            if p == clipped { gradient.scalars[k] = (clipped - y) / (clipped * (1 - clipped) * n) }
        }
        return (Float(total / Double(n)), gradient)
    }

    public func valueAndGradient(logits: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.smoothed(like: logits, amount: labelSmoothing, uniform: 0.5).dense(like: logits)
        let n = Float(logits.count)
        var gradient = Tensor(zeros: logits.shape)
        var total: Double = 0
        for k in 0..<logits.count {
            let z = Double(logits.scalars[k]), y = Double(t.scalars[k])
            total += max(z, 0) - z * y + Foundation.log1p(_exp(-abs(z)))
            let sigmoid = z >= 0 ? 1 / (1 + _exp(-z)) : _exp(z) / (1 + _exp(z))
            gradient.scalars[k] = Float((sigmoid - y) / Double(n))
        }
        return (Float(total / Double(n)), gradient)
    }
}
