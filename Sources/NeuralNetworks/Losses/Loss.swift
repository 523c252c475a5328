/// Training losses. Targets are class indices, standing for one-hot rows (Keras'
/// `categorical_crossentropy` on `to_categorical(labels)`). The value is the mean over the batch.
public enum Loss: String, Sendable, CaseIterable {
    case categoricalCrossEntropy = "categorical_crossentropy"

    /// Loss and gradient with respect to `predictions` (probabilities, batch × classes).
    /// Probabilities are clipped to [1e-7, 1 − 1e-7] as Keras does.
    public func valueAndGradient(predictions: Tensor, labels: [Int]) -> (value: Float, gradient: Tensor) {
        let (batch, classes) = Self.dimensions(predictions, labels)
        var gradient = Tensor(zeros: predictions.shape)
        var total: Double = 0
        let epsilon: Float = 1e-7
        for row in 0..<batch {
            let p = predictions.scalars[row * classes + labels[row]]
            let clipped = min(max(p, epsilon), 1 - epsilon)
            total -= Double(_logFloat(clipped))
            if p == clipped { gradient.scalars[row * classes + labels[row]] = -1 / (clipped * Float(batch)) }
        }
        return (Float(total / Double(batch)), gradient)
    }

    /// Softmax and cross-entropy fused: loss and gradient with respect to the **logits**,
    /// `(softmax(z) − onehot) / batch`. Stable for any logits (log-sum-exp with the max removed).
    public func valueAndGradient(logits: Tensor, labels: [Int]) -> (value: Float, gradient: Tensor) {
        let (batch, classes) = Self.dimensions(logits, labels)
        var gradient = Tensor(zeros: logits.shape)
        var total: Double = 0
        logits.scalars.withUnsafeBufferPointer { z in
            gradient.scalars.withUnsafeMutableBufferPointer { dz in
                Softmax.forward(z.baseAddress!, dz.baseAddress!, rows: batch, width: classes)
                for row in 0..<batch {
                    let zr = z.baseAddress! + row * classes
                    var largest = -Float.infinity
                    for j in 0..<classes { largest = max(largest, zr[j]) }
                    var sum: Double = 0
                    for j in 0..<classes { sum += _exp(Double(zr[j] - largest)) }
                    total += _log(sum) - Double(zr[labels[row]] - largest)
                    dz[row * classes + labels[row]] -= 1
                }
                let scale = 1 / Float(batch)
                for k in 0..<dz.count { dz[k] *= scale }
            }
        }
        return (Float(total / Double(batch)), gradient)
    }

    private static func dimensions(_ outputs: Tensor, _ labels: [Int]) -> (Int, Int) {
        precondition(outputs.rank == 2, "loss needs [batch, classes] outputs, got \(outputs.shape)")
        let (batch, classes) = (outputs.shape[0], outputs.shape[1])
        precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
        precondition(labels.allSatisfy { (0..<classes).contains($0) }, "label outside 0..<\(classes)")
        return (batch, classes)
    }
}

/// Indices of the largest entry of each row (ties: the first).
func argmaxRows(_ outputs: Tensor) -> [Int] {
    let classes = outputs.shape.last!
    return (0..<(outputs.count / classes)).map { row in
        var best = 0
        for j in 1..<classes where outputs.scalars[row * classes + j] > outputs.scalars[row * classes + best] {
            best = j
        }
        return best
    }
}
