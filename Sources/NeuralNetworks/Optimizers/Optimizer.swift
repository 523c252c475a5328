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
    /// Per-parameter state, zero until a parameter's first update.
    var state: OptimizerState { get }
}

extension Optimizer {
    /// The learning rate the next update will use.
    public var currentLearningRate: Float { learningRate(iteration: iterations) }
    public var typeName: String { Self.typeName }
}

/// An optimizer's per-parameter arrays (`velocity`, `m`, `v`, …), each as long as its parameter,
/// keyed by slot and parameter path. Each array is allocated once, zeroed, on first use and then
/// updated in place.
public final class OptimizerState: @unchecked Sendable {
    private var slots: [String: FloatBuffer] = [:]

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
        guard iterations >= 0 else { throw ShapeError("optimizer iterations \(iterations) is negative") }
        let registry = decoder.userInfo[ModuleRegistry.userInfoKey] as? ModuleRegistry ?? .standard
        self = try registry.decodeOptimizer(type: type, iterations: iterations, from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try TypedJSON.encode(type: type, configuration: configuration, to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(iterations, forKey: .iterations)
    }
}
