/// Categorical cross-entropy, `−Σ_j t_j · log p_j` per sample, averaged over the batch (Keras'
/// `categorical_crossentropy`, and its `sparse_` form for class labels; PyTorch's `CrossEntropyLoss`
/// on logits). Fused with a final softmax: the gradient with respect to the logits is
/// `(softmax(z) · Σt − t) / batch`, i.e. `(p − onehot) / batch`. Unfused, probabilities are
/// clipped to [1e-7, 1 − 1e-7] as Keras does. `labelSmoothing` ε trains on `t · (1 − ε) + ε / K`
/// for K outputs (Keras' `label_smoothing`; PyTorch's, for class labels and probabilities alike).
public struct CategoricalCrossEntropy: LossFunction {
    public static let typeName = "categorical_crossentropy"
    public static var specAliases: [String] { ["sparse_categorical_crossentropy", "crossentropy"] }
    public let labelSmoothing: Float

    public init(labelSmoothing: Float = 0) {
        precondition(labelSmoothing.isFinite && (0...1).contains(labelSmoothing), "label smoothing must be in [0, 1]")
        self.labelSmoothing = labelSmoothing
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var labelSmoothing: Float
        enum CodingKeys: String, CodingKey { case labelSmoothing = "label_smoothing" }
        public init(labelSmoothing: Float = 0) { self.labelSmoothing = labelSmoothing }
        public init(from decoder: Decoder) throws {
            // Files and checkpoints from before label smoothing name the type alone.
            labelSmoothing = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Float.self, forKey: .labelSmoothing) ?? 0
        }
    }
    public init(configuration: Configuration) throws {
        self.init(labelSmoothing: try checkedLabelSmoothing(configuration.labelSmoothing, Self.typeName))
    }
    public var configuration: Configuration { Configuration(labelSmoothing: labelSmoothing) }
    public var fusedActivation: Activation? { .softmax }

    /// The targets the loss compares with: smoothed towards 1/K when asked.
    private func smoothed(_ targets: Targets, like outputs: Tensor) -> Targets {
        targets.smoothed(like: outputs, amount: labelSmoothing, uniform: 1 / Float(outputs.shape.last!))
    }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = smoothed(targets, like: predictions).dense(like: predictions)
        let width = predictions.shape.last!, batch = predictions.count / width
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        let epsilon: Float = 1e-7
        for k in 0..<predictions.count where t.scalars[k] != 0 {
            let p = predictions.scalars[k]
            let clipped = min(max(p, epsilon), 1 - epsilon)
            total -= Double(t.scalars[k]) * Double(_logFloat(clipped))
            if p == clipped { gradient.scalars[k] = -t.scalars[k] / (clipped * Float(batch)) }
        }
        return (Float(total / Double(batch)), gradient)
    }

    public func valueAndGradient(logits: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let width = logits.shape.last!, batch = logits.count / width
        var gradient = Tensor(zeros: logits.shape)
        var total: Double = 0
        logits.scalars.withUnsafeBufferPointer { z in
            gradient.scalars.withUnsafeMutableBufferPointer { dz in
                Softmax.forward(z.baseAddress!, dz.baseAddress!, rows: batch, width: width)
                func logSumExp(_ row: Int) -> Double {
                    let zr = z.baseAddress! + row * width
                    var largest = -Float.infinity
                    for j in 0..<width { largest = max(largest, zr[j]) }
                    var sum: Double = 0
                    for j in 0..<width { sum += _exp(Double(zr[j] - largest)) }
                    return _log(sum) + Double(largest)
                }
                switch smoothed(targets, like: logits) {
                case .classes(let labels):
                    precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
                    for (row, label) in labels.enumerated() {
                        precondition((0..<width).contains(label), "label \(label) outside 0..<\(width)")
                        total += logSumExp(row) - Double(z[row * width + label])
                        dz[row * width + label] -= 1
                    }
                case .sequences:
                    preconditionFailure("categorical cross-entropy takes classes or dense rows; label sequences take ctc")
                case .dense(let t):
                    precondition(t.count == logits.count, "targets \(t.shape) do not match outputs \(logits.shape)")
                    for row in 0..<batch {
                        let lse = logSumExp(row)
                        var mass: Float = 0
                        for j in 0..<width { mass += t.scalars[row * width + j] }
                        for j in 0..<width {
                            let k = row * width + j
                            total += Double(t.scalars[k]) * (lse - Double(z[k]))
                            dz[k] = dz[k] * mass - t.scalars[k]
                        }
                    }
                }
                let scale = 1 / Float(batch)
                for k in 0..<dz.count { dz[k] *= scale }
            }
        }
        return (Float(total / Double(batch)), gradient)
    }
}
