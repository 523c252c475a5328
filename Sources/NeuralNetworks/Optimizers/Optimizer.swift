import Foundation

/// Updates parameters in place from their gradients: the contract every optimizer follows.
///
/// An optimizer describes itself like a layer (a stable ``typeName`` and a `Codable`
/// ``Configuration`` of its hyperparameters) and keeps its per-parameter state in
/// ``state``, slots keyed by parameter path, so that a checkpoint saves and restores any
/// optimizer without knowing which one it is.
public protocol Optimizer: AnyObject, ModuleType {
    associatedtype Configuration: Codable & Sendable
    /// The registry key (`SGD`, `Adam`), stored in checkpoints.
    static var typeName: String { get }
    /// The names of the per-parameter state slots (`velocity`; `m`, `v`), each shaped like its parameter.
    static var slotNames: [String] { get }
    /// Hyperparameters (not the iteration count or the slots).
    var configuration: Configuration { get }
    /// A new optimizer with zero state; throws ``ShapeError`` for hyperparameters out of range.
    init(configuration: Configuration) throws
    /// Updates made so far (Keras' `iterations`; schedules and bias corrections depend on it).
    var iterations: Int { get set }
    /// The learning rate of update number `iteration` (0-based).
    func learningRate(iteration: Int) -> Float
    /// One update of every parameter from its gradient; increments ``iterations``.
    func update(_ parameters: [Parameter])
    /// The same update with its element-wise work spread over up to `threads` threads (training
    /// passes the model's thread count). The default runs ``update(_:)``; the built-in
    /// optimizers use ``ElementwiseUpdate`` and give the same values for any count.
    func update(_ parameters: [Parameter], threads: Int)
    /// Per-parameter state, zero until a parameter's first update.
    var state: OptimizerState { get }
    /// What an ``OptimizerSpec`` (`nn train --optimizer "adam(beta_2=0.98)"`) leaves out; nil (the
    /// default): a spec gives every setting.
    static var specDefaults: Configuration? { get }
    /// Other names a spec may give it, each with the settings it implies, written as in a spec
    /// (Adam's `"adamw": "decoupled_weight_decay=true, weight_decay=0.01"`); none by default.
    static var specAliases: [String: String] { get }
}

extension Optimizer {
    public static var specDefaults: Configuration? { nil }
    public static var specAliases: [String: String] { [:] }
    public func update(_ parameters: [Parameter], threads: Int) { update(parameters) }

    /// The learning rate the next update will use.
    public var currentLearningRate: Float { learningRate(iteration: iterations) }
    public var typeName: String { Self.typeName }
}

/// An optimizer whose learning rate is a base rate through a ``LearningRateSchedule``, scaled by
/// the factor a plateau rule sets (``OptimizerState/learningRateFactor``): the built-in ones.
public protocol ScheduledOptimizer: Optimizer {
    /// The base learning rate, before the schedule.
    var learningRate: Float { get }
    var schedule: LearningRateSchedule { get }
}

extension ScheduledOptimizer {
    public func learningRate(iteration: Int) -> Float {
        schedule.learningRate(base: learningRate, iteration: iteration) * state.learningRateFactor
    }
}

/// An optimizer's per-parameter arrays (`velocity`, `m`, `v`, …), each as long as its parameter,
/// keyed by slot and parameter path. Each array is allocated once, zeroed, on first use and then
/// updated in place.
public final class OptimizerState: @unchecked Sendable {
    private var slots: [String: FloatBuffer] = [:]
    /// What ``ReduceLearningRateOnPlateau`` has scaled the learning rate by (1: not at all). `fit`
    /// sets it before each epoch from the history, so a checkpoint need not keep it.
    public var learningRateFactor: Float = 1

    public init() {}

    private static func key(_ slot: String, _ path: String) -> String { slot + "." + path }

    /// `slot`'s array for `parameter` (`parameter.count` floats), zero the first time.
    public func slot(_ slot: String, for parameter: Parameter) -> UnsafeMutablePointer<Float> {
        let key = Self.key(slot, parameter.name)
        if let buffer = slots[key] { return buffer.pointer }
        let buffer = FloatBuffer(count: parameter.count)
        slots[key] = buffer
        return buffer.pointer
    }

    /// A copy of `slot` for `parameter` (zeros before its first update).
    public func values(_ slot: String, for parameter: Parameter) -> [Float] {
        guard let buffer = slots[Self.key(slot, parameter.name)] else { return [Float](repeating: 0, count: parameter.count) }
        return Array(UnsafeBufferPointer(start: buffer.pointer, count: parameter.count))
    }

    public func setValues(_ values: [Float], _ slot: String, for parameter: Parameter) {
        precondition(values.count == parameter.count, "\(slot) size does not match \(parameter.name)")
        self.slot(slot, for: parameter).update(from: values, count: values.count)
    }
}

/// Element-wise updates of many parameters spread over threads: the elements of all trainable
/// parameters, in order, are cut into runs of about equal size (a large parameter may be cut),
/// one per thread. Each element is computed as it would be on one thread, so results do not
/// depend on the thread count. Slots are looked up first, on the calling thread
/// (``OptimizerState`` is not thread-safe).
public enum ElementwiseUpdate {
    /// Part of one parameter: its elements `range`, with the slots' arrays of the whole parameter.
    public struct Piece {
        public let parameter: Parameter
        public let slots: [UnsafeMutablePointer<Float>]
        public let range: Range<Int>
    }

    /// Below this many elements a second thread costs more than it saves.
    static let elementsPerThread = 1 << 16

    public static func run(_ parameters: [Parameter], slots: [String], state: OptimizerState, threads: Int,
                           _ body: (Piece) -> Void) {
        let trainable = parameters.filter(\.isTrainable)
        let prepared = trainable.map { parameter in (parameter, slots.map { state.slot($0, for: parameter) }) }
        let total = trainable.reduce(0) { $0 + $1.count }
        let runs = Parallel.split(total, into: min(max(threads, 1), max(1, total / elementsPerThread)))
        Parallel.forEach(runs.count) { run in
            var start = 0
            for (parameter, slotPointers) in prepared {
                let lower = max(start, runs[run].lowerBound), upper = min(start + parameter.count, runs[run].upperBound)
                if lower < upper {
                    body(Piece(parameter: parameter, slots: slotPointers, range: (lower - start)..<(upper - start)))
                }
                start += parameter.count
            }
        }
    }
}

/// An optimizer's type and hyperparameters, as a checkpoint's metadata stores them:
/// `{"type": "SGD", "iterations": 7, …configuration}`.
public struct OptimizerDescription: Codable, Sendable {
    public let type: String
    public let iterations: Int
    private let configuration: any Codable & Sendable
    private let make: @Sendable () throws -> any Optimizer

    init<O: Optimizer>(type: O.Type, configuration: O.Configuration, iterations: Int) {
        self.type = O.typeName
        self.iterations = iterations
        self.configuration = configuration
        make = { try O(configuration: configuration) }
    }

    public init<O: Optimizer>(_ optimizer: O) {
        self.init(type: O.self, configuration: optimizer.configuration, iterations: optimizer.iterations)
    }

    /// A new optimizer of this type, hyperparameters and iteration count (slots zero).
    public func makeOptimizer() throws -> any Optimizer {
        let optimizer = try make()
        optimizer.iterations = iterations
        return optimizer
    }

    private enum Keys: String, CodingKey { case type, iterations }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        // Checkpoints from before the module contract had SGD only and no type.
        let type = try container.decodeIfPresent(String.self, forKey: .type) ?? SGD.typeName
        let iterations = try container.decode(Int.self, forKey: .iterations)
        // Past 2^53 updates a count is not a run's (and t + 1, t as a double, lose their meaning).
        guard (0...(1 << 53)).contains(iterations) else {
            throw ShapeError("optimizer iterations \(iterations) is outside 0...2^53")
        }
        let registry = decoder.userInfo[ModuleRegistry.userInfoKey] as? ModuleRegistry ?? .standard
        self = try registry.decodeOptimizer(type: type, iterations: iterations, from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try TypedJSON.encode(type: type, configuration: configuration, to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(iterations, forKey: .iterations)
    }
}
