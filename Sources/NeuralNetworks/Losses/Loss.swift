import Foundation

/// What a batch's outputs are compared with: class indices (one per sample, standing for one-hot
/// rows), dense rows of the outputs' shape (regression, soft labels, multi-label 0/1 rows), or a
/// sequence of class indices per sample, of any length, for a loss that aligns them to the
/// output steps (``CTCLoss``).
public enum Targets: Sendable, Equatable {
    case classes([Int])
    case dense(Tensor)
    case sequences([[Int]])

    /// Dense rows for `outputs`: one-hot rows for classes (with one output column, the class
    /// index itself, as Keras' binary targets), or the dense tensor.
    public func dense(like outputs: Tensor) -> Tensor {
        switch self {
        case .sequences: preconditionFailure("label sequences have no dense rows: train them with a sequence loss (ctc)")
        case .dense(let tensor):
            precondition(tensor.count == outputs.count, "targets \(tensor.shape) do not match outputs \(outputs.shape)")
            return tensor
        case .classes(let labels):
            let width = outputs.shape.last!, batch = outputs.count / width
            precondition(labels.count == batch, "\(labels.count) labels for a batch of \(batch)")
            var result = Tensor(zeros: outputs.shape)
            for (row, label) in labels.enumerated() {
                if width == 1 {
                    result.scalars[row] = Float(label)
                } else {
                    precondition((0..<width).contains(label), "label \(label) outside 0..<\(width)")
                    result.scalars[row * width + label] = 1
                }
            }
            return result
        }
    }
}

extension Targets {
    /// Label smoothing (Keras' `label_smoothing`, PyTorch's for cross-entropy): the dense rows
    /// for `outputs` moved `amount` of the way towards `uniform`, `t · (1 − amount) + amount ·
    /// uniform`; the targets themselves when `amount` is 0.
    func smoothed(like outputs: Tensor, amount: Float, uniform: Float) -> Targets {
        guard amount > 0 else { return self }
        var rows = dense(like: outputs)
        for k in 0..<rows.count { rows.scalars[k] = rows.scalars[k] * (1 - amount) + amount * uniform }
        return .dense(rows)
    }
}

/// Checks a label smoothing amount read from a file or spec: a number in [0, 1].
func checkedLabelSmoothing(_ amount: Float, _ loss: String) throws -> Float {
    guard amount.isFinite, (0...1).contains(amount) else {
        throw ShapeError("\(loss): label_smoothing must be in [0, 1], got \(amount)")
    }
    return amount
}

/// A training loss: the contract every loss follows. The value is the mean over the batch (and,
/// for element-wise losses, over each row's outputs, as Keras and PyTorch's `reduction="mean"`).
///
/// A loss that pairs with an output activation (cross-entropy with softmax, binary cross-entropy
/// with sigmoid) names it in ``fusedActivation``; when the model's last layer ends in that
/// activation, training calls ``valueAndGradient(logits:targets:)`` with the pre-activation
/// outputs: stable for any logits, and the gradient skips the activation's Jacobian.
public protocol LossFunction: Sendable, ModuleType {
    associatedtype Configuration: Codable & Sendable
    /// The registry key, Keras' name (`categorical_crossentropy`).
    static var typeName: String { get }
    /// Other names a loss spec (`nn train --loss`) may give it (`mse`); none by default.
    static var specAliases: [String] { get }
    var configuration: Configuration { get }
    init(configuration: Configuration) throws
    var fusedActivation: Activation? { get }
    /// Loss and gradient with respect to the outputs (`[batch, …, width]`).
    func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor)
    /// Loss and gradient with respect to the logits of ``fusedActivation``.
    func valueAndGradient(logits: Tensor, targets: Targets) -> (value: Float, gradient: Tensor)
    /// Outputs the model needs beyond one per class (``CTCLoss``: the blank); 0 by default.
    var extraOutputs: Int { get }
    /// Whether the loss trains label sequences (``Targets/sequences(_:)``) rather than classes or values.
    var takesSequences: Bool { get }
    /// For a sequence loss, the decoded outputs' label edits against the targets and the targets'
    /// total length (a label error rate); nil otherwise.
    func labelErrors(outputs: Tensor, targets: Targets) -> (edits: Int, length: Int)?
    /// The same for padded sequences, whose sample b has `stepCounts[b]` real steps (nil: all).
    /// By default per-step outputs (`[batch, steps, …]`) count at their real steps only: the loss
    /// is its mean over them, padding gets zero gradient (``StepMask``); a sequence loss that
    /// aligns steps itself (``CTCLoss``) takes the counts as its input lengths.
    func valueAndGradient(predictions: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor)
    func valueAndGradient(logits: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor)
    func labelErrors(outputs: Tensor, targets: Targets, stepCounts: [Int]?) -> (edits: Int, length: Int)?
    /// Throws ``ShapeError`` where the loss cannot train a model of `outputShape` on `data`, before
    /// any pass (``Sequential/requireOutputs(fitting:loss:)``): a CTC blank outside the outputs,
    /// binary cross-entropy on targets outside [0, 1]. Nothing by default.
    func requireFits(_ data: Dataset, outputShape: [Int]) throws
}

extension LossFunction {
    public static var specAliases: [String] { [] }
    public func requireFits(_ data: Dataset, outputShape: [Int]) throws {}
    public var fusedActivation: Activation? { nil }
    public var extraOutputs: Int { 0 }
    public var takesSequences: Bool { false }
    public func labelErrors(outputs: Tensor, targets: Targets) -> (edits: Int, length: Int)? { nil }
    public func valueAndGradient(logits: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        preconditionFailure("\(Self.typeName) fuses with no activation; call valueAndGradient(predictions:targets:)")
    }
    public func valueAndGradient(predictions: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        StepMask.apply(predictions, targets, stepCounts: stepCounts) { valueAndGradient(predictions: $0, targets: $1) }
    }
    public func valueAndGradient(logits: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        StepMask.apply(logits, targets, stepCounts: stepCounts) { valueAndGradient(logits: $0, targets: $1) }
    }
    public func labelErrors(outputs: Tensor, targets: Targets, stepCounts: [Int]?) -> (edits: Int, length: Int)? {
        labelErrors(outputs: outputs, targets: targets)
    }
}

/// Per-step outputs of padded sequences for a loss that knows nothing of steps: the real steps'
/// rows (and their targets: a class per step, or dense rows of the outputs' shape) go to the loss
/// as a batch of their own, so its mean is over them (as Keras' masked losses and PyTorch's
/// `ignore_index` count), and the padding's rows get zero gradient.
enum StepMask {
    static func apply(_ outputs: Tensor, _ targets: Targets, stepCounts: [Int]?,
                      _ loss: (Tensor, Targets) -> (value: Float, gradient: Tensor)) -> (value: Float, gradient: Tensor) {
        guard let stepCounts, outputs.rank >= 3 else { return loss(outputs, targets) }
        let (batch, steps) = (outputs.shape[0], outputs.shape[1])
        precondition(stepCounts.count == batch, "\(stepCounts.count) step counts for a batch of \(batch)")
        if case .sequences = targets { return loss(outputs, targets) }
        if stepCounts.allSatisfy({ $0 >= steps }) { return loss(outputs, targets) }
        let width = outputs.count / max(batch * steps, 1)
        let real = (0..<(batch * steps)).filter { $0 % steps < stepCounts[$0 / steps] }
        guard !real.isEmpty else { return (0, Tensor(zeros: outputs.shape)) }
        func rows(of tensor: Tensor) -> Tensor {
            Tensor(shape: [real.count] + outputs.shape.dropFirst(2)) { destination in
                tensor.scalars.withUnsafeBufferPointer { source in
                    for (i, row) in real.enumerated() {
                        (destination + i * width).update(from: source.baseAddress! + row * width, count: width)
                    }
                }
            }
        }
        let realTargets: Targets
        switch targets {
        case .classes(let labels):
            precondition(labels.count == batch * steps, "per-step outputs of padded sequences need a class per step, got \(labels.count) for \(batch)×\(steps)")
            realTargets = .classes(real.map { labels[$0] })
        case .dense(let values):
            precondition(values.count == outputs.count, "targets \(values.shape) do not match outputs \(outputs.shape)")
            realTargets = .dense(rows(of: values))
        case .sequences: return loss(outputs, targets)
        }
        let (value, realGradient) = loss(rows(of: outputs), realTargets)
        var gradient = Tensor(zeros: outputs.shape)
        gradient.scalars.withUnsafeMutableBufferPointer { destination in
            realGradient.scalars.withUnsafeBufferPointer { source in
                for (i, row) in real.enumerated() {
                    (destination.baseAddress! + row * width).update(from: source.baseAddress! + i * width, count: width)
                }
            }
        }
        return (value, gradient)
    }
}

/// A loss as a value: `.categoricalCrossEntropy`, `.binaryCrossEntropy`, `.meanSquaredError`,
/// `Loss(Huber(delta: 2))`, `try Loss(spec: "categorical_crossentropy(label_smoothing=0.1)")`, or
/// `Loss(MyLoss())` for a loss of one's own. Codable as `{"type": …, …configuration}`.
public struct Loss: Sendable, Codable {
    public let function: any LossFunction

    public init(_ function: some LossFunction) { self.function = function }

    /// Softmax cross-entropy (fused with a final softmax), Keras' `categorical_crossentropy`.
    public static let categoricalCrossEntropy = Loss(CategoricalCrossEntropy())
    /// Sigmoid binary cross-entropy (fused with a final sigmoid), Keras' `binary_crossentropy`.
    public static let binaryCrossEntropy = Loss(BinaryCrossEntropy())
    /// Mean squared error, Keras' `mean_squared_error`.
    public static let meanSquaredError = Loss(MeanSquaredError())
    /// Connectionist temporal classification, the blank last (``CTCLoss``).
    public static let ctc = Loss(CTCLoss())

    /// The loss a spec names: a type name or alias in any case, `-` or `_` optional, with its
    /// settings as `key=value` (`huber(delta=2)`, `mse`); throws ``ModelSpecError``.
    public init(spec: String, registry: ModuleRegistry = .standard) throws {
        self = try ModelSpec.loss(spec, registry: registry)
    }

    public var typeName: String { type(of: function).typeName }

    /// The loss as a spec (``init(spec:registry:)``) writes it: its type name, with the settings
    /// that differ from its defaults (`huber(delta=2)`, `categorical_crossentropy`).
    public var specText: String {
        func settings(_ loss: Loss?) -> [String: SpecValue] {
            guard let loss, let json = try? canonicalJSON(loss),
                  let values = try? JSONDecoder().decode([String: SpecValue].self, from: Data(json.utf8)) else { return [:] }
            return values.filter { $0.key != "type" }
        }
        let own = settings(self)
        let defaults = settings(try? ModuleRegistry.standard.decoder().decode(Loss.self, from: Data(#"{"type":"\#(typeName)"}"#.utf8)))
        let changed = own.keys.filter { own[$0] != defaults[$0] }.sorted()
        guard !changed.isEmpty else { return typeName }
        return typeName + "(" + changed.map { "\($0)=\(own[$0]!)" }.joined(separator: ", ") + ")"
    }

    /// A setting's value as a spec writes it (`2`, `0.1`, `true`, `mean`).
    private enum SpecValue: Decodable, Equatable, CustomStringConvertible {
        case bool(Bool), number(Double), text(String), other

        init(from decoder: Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let bool = try? value.decode(Bool.self) { self = .bool(bool) }
            else if let number = try? value.decode(Double.self) { self = .number(number) }
            else if let text = try? value.decode(String.self) { self = .text(text) }
            else { self = .other }
        }

        var description: String {
            switch self {
            case .bool(let bool): return "\(bool)"
            case .number(let number): return number == number.rounded() && abs(number) < 1e15 ? "\(Int(number))" : "\(number)"
            case .text(let text): return text
            case .other: return "…"
            }
        }
    }

    public var fusedActivation: Activation? { function.fusedActivation }
    public var takesSequences: Bool { function.takesSequences }
    public var extraOutputs: Int { function.extraOutputs }
    public func labelErrors(outputs: Tensor, targets: Targets) -> (edits: Int, length: Int)? {
        function.labelErrors(outputs: outputs, targets: targets)
    }

    public func valueAndGradient(predictions: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        function.valueAndGradient(predictions: predictions, targets: targets)
    }
    public func valueAndGradient(logits: Tensor, targets: Targets) -> (value: Float, gradient: Tensor) {
        function.valueAndGradient(logits: logits, targets: targets)
    }
    /// For padded sequences: sample b's first `stepCounts[b]` steps are real (see ``LossFunction``).
    public func valueAndGradient(predictions: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        function.valueAndGradient(predictions: predictions, targets: targets, stepCounts: stepCounts)
    }
    public func valueAndGradient(logits: Tensor, targets: Targets, stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        function.valueAndGradient(logits: logits, targets: targets, stepCounts: stepCounts)
    }
    public func labelErrors(outputs: Tensor, targets: Targets, stepCounts: [Int]?) -> (edits: Int, length: Int)? {
        function.labelErrors(outputs: outputs, targets: targets, stepCounts: stepCounts)
    }
    public func valueAndGradient(predictions: Tensor, labels: [Int]) -> (value: Float, gradient: Tensor) {
        valueAndGradient(predictions: predictions, targets: .classes(labels))
    }
    public func valueAndGradient(logits: Tensor, labels: [Int]) -> (value: Float, gradient: Tensor) {
        valueAndGradient(logits: logits, targets: .classes(labels))
    }

    public init(from decoder: Decoder) throws {
        let type = try TypedJSON.type(from: decoder)
        let registry = decoder.userInfo[ModuleRegistry.userInfoKey] as? ModuleRegistry ?? .standard
        self = try registry.decodeLoss(type: type, from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try TypedJSON.encode(type: typeName, configuration: function.configuration, to: encoder)
    }
}

/// The `{"type": name, …configuration}` objects that model files, checkpoints and specs store.
enum TypedJSON {
    private enum Keys: String, CodingKey { case type }

    static func type(from decoder: Decoder) throws -> String {
        try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .type)
    }

    /// The type name, then the configuration's keys in the same object.
    static func encode(type: String, configuration: any Encodable, to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(type, forKey: .type)
        try configuration.encode(to: encoder)
    }
}

/// No settings: the configuration of a loss or layer that has none (encodes as nothing).
public struct NoConfiguration: Codable, Sendable, Equatable {
    public init() {}
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
