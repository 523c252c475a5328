/// Categorical cross-entropy, `−Σ_j t_j · log p_j` per sample, averaged over the batch (Keras'
/// `categorical_crossentropy`; PyTorch's `CrossEntropyLoss` on logits). Fused with a final softmax:
/// the gradient with respect to the logits is `(softmax(z) · Σt − t) / batch`, i.e. `(p − onehot) / batch`.
/// Unfused, probabilities are clipped to [1e-7, 1 − 1e-7] as Keras does.
public struct CategoricalCrossEntropy: LossFunction {
    public static let typeName = "categorical_crossentropy"
    public init() {}
    public init(configuration: NoConfiguration) {}
    public var configuration: NoConfiguration { NoConfiguration() }
    public var fusedActivation: Activation? { .softmax }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        let t = targets.dense(like: predictions)
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
                switch targets {
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
