import Foundation

/// Connectionist temporal classification (Graves et al. 2006; PyTorch's `nn.CTCLoss`, Keras'
/// `ctc_batch_cost`): the negative log-probability of a label sequence summed over every
/// alignment of it to the output steps, for outputs `[batch, steps, classes + 1]` (a softmax per
/// step, one output being the blank) and targets ``Targets/sequences(_:)`` of class indices.
///
/// Outputs hold the classes in order with the blank inserted at ``blank`` (nil: the last output,
/// as Keras; 0 is PyTorch's default, where class c is output c + 1). Computed in log space with
/// the forward (α) and backward (β) recursions over the label sequence with blanks between and
/// around, `l′` (2L + 1 symbols): α_t(s) = (α_{t−1}(s) + α_{t−1}(s−1) + α_{t−1}(s−2)) · y_t(l′_s),
/// the skip only onto a label that differs from the one two back. Fused with the softmax, the
/// gradient with respect to the logits is `y_t(k) − γ_t(k)`, γ the posterior of emitting k at t.
/// `reduction` "mean" (PyTorch's default) divides each sample's loss by its label count, then
/// averages over the batch; "sum_over_batch" averages the plain losses (Keras). A sequence that
/// no alignment fits (more labels, with repeats' blanks, than steps) has an infinite loss, an
/// error in training unless ``zeroInfinity`` makes it 0 with no gradient (PyTorch's `zero_infinity`).
public struct CTCLoss: LossFunction {
    public static let typeName = "ctc"
    public let blank: Int?
    public let reduction: Reduction
    public let zeroInfinity: Bool

    public enum Reduction: String, Sendable, NamedSetting {
        case mean
        case sumOverBatch = "sum_over_batch"
    }

    public init(blank: Int? = nil, reduction: Reduction = .mean, zeroInfinity: Bool = false) {
        precondition((blank ?? 0) >= 0, "the blank is an output index")
        (self.blank, self.reduction, self.zeroInfinity) = (blank, reduction, zeroInfinity)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var blank: Int?
        public var reduction: Reduction?
        public var zeroInfinity: Bool?
        enum CodingKeys: String, CodingKey { case blank, reduction, zeroInfinity = "zero_infinity" }
    }

    public var configuration: Configuration { Configuration(blank: blank, reduction: reduction, zeroInfinity: zeroInfinity) }

    public init(configuration c: Configuration) throws {
        if let blank = c.blank, blank < 0 { throw ShapeError("ctc: the blank is an output index, got \(blank)") }
        self.init(blank: c.blank, reduction: c.reduction ?? .mean, zeroInfinity: c.zeroInfinity ?? false)
    }

    public var fusedActivation: Activation? { .softmax }
    public var extraOutputs: Int { 1 }
    public var takesSequences: Bool { true }

    /// A blank given beyond the model's outputs is an error before training (the passes would
    /// index past each step's outputs).
    public func requireFits(_ data: Dataset, outputShape: [Int]) throws {
        guard let blank, let width = outputShape.last, blank >= width else { return }
        throw ShapeError("ctc: the blank \(blank) is outside the model's \(width) outputs per step (0...\(width - 1))")
    }

    /// The blank's output index for `width` outputs.
    public func blankIndex(width: Int) -> Int { blank ?? width - 1 }

    /// Class `label`'s output index, skipping the blank.
    @inline(__always) func output(of label: Int, blank: Int) -> Int { label < blank ? label : label + 1 }

    public func valueAndGradient(logits: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        valueAndGradient(logits: logits, targets: targets, stepCounts: nil)
    }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        valueAndGradient(predictions: predictions, targets: targets, stepCounts: nil)
    }

    /// With `stepCounts`, sample b's outputs are its first `stepCounts[b]` steps (PyTorch's
    /// `input_lengths`); the rest get no gradient.
    public func valueAndGradient(logits: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        let width = logits.shape.last!
        var logProbabilities = [Double](repeating: 0, count: logits.count)
        for row in 0..<(logits.count / width) {
            let z = logits.scalars[(row * width)..<((row + 1) * width)]
            let largest = Double(z.max()!)
            let logSum = log(z.reduce(0.0) { $0 + exp(Double($1) - largest) }) + largest
            for (j, value) in z.enumerated() { logProbabilities[row * width + j] = Double(value) - logSum }
        }
        // d/dz = y − γ: the softmax's Jacobian folded into the posterior.
        return lossAndGradient(logits.shape, logProbabilities, targets, stepCounts) { probability, posterior, _ in
            probability - posterior
        }
    }

    public func valueAndGradient(predictions: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        let logProbabilities = predictions.scalars.map { log(Double(max($0, 1e-7))) }
        // d/dy = −γ / y (zero where the probability was clipped).
        return lossAndGradient(predictions.shape, logProbabilities, targets, stepCounts) { probability, posterior, clipped in
            clipped ? 0 : -posterior / probability
        }
    }

    /// The loss from per-step log-probabilities, and its gradient from each (probability,
    /// posterior, whether the probability was clipped) through `derivative`.
    private func lossAndGradient(_ shape: [Int], _ logProbabilities: [Double], _ targets: Targets, _ stepCounts: [Int]?,
                                 derivative: (Double, Double, Bool) -> Double) -> (value: Float, gradient: Tensor) {
        precondition(shape.count == 3, "ctc: outputs [batch, steps, classes + 1], got \(shape)")
        guard case .sequences(let sequences) = targets else {
            preconditionFailure("ctc: targets are label sequences (Targets.sequences)")
        }
        let (batch, steps, width) = (shape[0], shape[1], shape[2])
        precondition(sequences.count == batch, "ctc: \(sequences.count) label sequences for a batch of \(batch)")
        precondition(stepCounts.map { $0.count == batch && $0.allSatisfy { (0...steps).contains($0) } } ?? true,
                     "ctc: step counts must be one per sample, each within the \(steps) steps")
        let blank = blankIndex(width: width)
        precondition(blank < width, "ctc: blank \(blank) outside the \(width) outputs")
        var gradient = Tensor(zeros: shape)
        var total = 0.0
        for b in 0..<batch {
            let labels = sequences[b].map { output(of: $0, blank: blank) }
            precondition(labels.allSatisfy { (0..<width).contains($0) }, "ctc: a label outside the \(width - 1) classes")
            let sampleSteps = stepCounts?[b] ?? steps
            let sample = CTCAlignment(logProbabilities: logProbabilities, offset: b * steps * width, steps: sampleSteps,
                                      width: width, labels: labels, blank: blank)
            let scale = (reduction == .mean ? 1 / Double(max(labels.count, 1)) : 1) / Double(batch)
            guard sample.logLikelihood.isFinite else {
                if !zeroInfinity { total = .infinity }
                continue
            }
            total -= sample.logLikelihood * scale
            let posteriors = sample.posteriors()
            for t in 0..<sampleSteps {
                for k in 0..<width {
                    let index = (b * steps + t) * width + k
                    let logProbability = logProbabilities[index]
                    // Clipped: the log of the float 1e-7 the outputs were clipped to (a little above 1e-7).
                    let value = derivative(exp(logProbability), posteriors[t * width + k],
                                           logProbability <= log(Double(Float(1e-7))))
                    gradient.scalars[index] = Float(value * scale)
                }
            }
        }
        return (Float(total), gradient)
    }

    /// Greedy-decoded sequences of `outputs` against `targets`: label edits and reference length.
    public func labelErrors(outputs: Tensor, targets: Targets) -> (edits: Int, length: Int)? {
        labelErrors(outputs: outputs, targets: targets, stepCounts: nil)
    }

    public func labelErrors(outputs: Tensor, targets: Targets, stepCounts: [Int]?) -> (edits: Int, length: Int)? {
        guard case .sequences(let sequences) = targets else { return nil }
        let width = outputs.shape.last!
        let decoded = CTCDecoder.greedy(outputs, blank: blankIndex(width: width), stepCounts: stepCounts)
        var edits = 0, length = 0
        for (guess, truth) in zip(decoded, sequences) {
            edits += CTCDecoder.editDistance(guess, truth)
            length += truth.count
        }
        return (edits, length)
    }
}

/// The α and β recursions of one sample in log space (see ``CTCLoss``).
struct CTCAlignment {
    let steps: Int, width: Int
    let extended: [Int]  // l′: blank, l1, blank, l2, …, blank
    let alpha: [Double], beta: [Double]  // [steps, 2L + 1]; each includes the step's own log y
    let logLikelihood: Double

    init(logProbabilities y: [Double], offset: Int, steps: Int, width: Int, labels: [Int], blank: Int) {
        (self.steps, self.width) = (steps, width)
        var extended = [blank]
        for label in labels { extended += [label, blank] }
        self.extended = extended
        let symbols = extended.count
        func logY(_ t: Int, _ s: Int) -> Double { y[offset + t * width + extended[s]] }
        // A skip over a blank is allowed onto a label that differs from the one two symbols back.
        let skips = (0..<symbols).map { $0 >= 2 && extended[$0] != blank && extended[$0] != extended[$0 - 2] }
        var alpha = [Double](repeating: -.infinity, count: steps * symbols)
        var beta = alpha
        if steps > 0 {
            alpha[0] = logY(0, 0)
            if symbols > 1 { alpha[1] = logY(0, 1) }
            for t in 1..<max(steps, 1) {
                for s in 0..<symbols {
                    var sum = alpha[(t - 1) * symbols + s]
                    if s >= 1 { sum = Self.logAdd(sum, alpha[(t - 1) * symbols + s - 1]) }
                    if skips[s] { sum = Self.logAdd(sum, alpha[(t - 1) * symbols + s - 2]) }
                    alpha[t * symbols + s] = sum + logY(t, s)
                }
            }
            let last = (steps - 1) * symbols
            beta[last + symbols - 1] = logY(steps - 1, symbols - 1)
            if symbols > 1 { beta[last + symbols - 2] = logY(steps - 1, symbols - 2) }
            for t in stride(from: steps - 2, through: 0, by: -1) {
                for s in 0..<symbols {
                    var sum = beta[(t + 1) * symbols + s]
                    if s + 1 < symbols { sum = Self.logAdd(sum, beta[(t + 1) * symbols + s + 1]) }
                    if s + 2 < symbols, skips[s + 2] { sum = Self.logAdd(sum, beta[(t + 1) * symbols + s + 2]) }
                    beta[t * symbols + s] = sum + logY(t, s)
                }
            }
        }
        (self.alpha, self.beta) = (alpha, beta)
        let end = (steps - 1) * symbols + symbols - 1
        logLikelihood = steps == 0 ? -.infinity : symbols > 1 ? Self.logAdd(alpha[end], alpha[end - 1]) : alpha[end]
        self.y = y
        self.offset = offset
    }

    private let y: [Double]
    private let offset: Int

    /// γ_t(k): the probability, given the labels, that step t emits output k; `[steps, width]`.
    func posteriors() -> [Double] {
        let symbols = extended.count
        var result = [Double](repeating: 0, count: steps * width)
        for t in 0..<steps {
            for s in 0..<symbols {
                let k = extended[s]
                // α_t(s) + β_t(s) counts the step's own log y twice.
                let log = alpha[t * symbols + s] + beta[t * symbols + s] - y[offset + t * width + k] - logLikelihood
                if log > -700 { result[t * width + k] += exp(log) }
            }
        }
        return result
    }

    @inline(__always) static func logAdd(_ a: Double, _ b: Double) -> Double {
        if a == -.infinity { return b }
        if b == -.infinity { return a }
        return max(a, b) + log1p(exp(-abs(a - b)))
    }
}
