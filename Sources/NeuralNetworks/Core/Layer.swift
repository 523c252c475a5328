/// A layer with explicit forward and backward passes: the contract every layer, built in or a
/// user's, follows (`docs/architecture.md` shows how to add one in one file).
///
/// `forward` keeps what `backward` needs in the layer's own workspace; `backward` takes the
/// gradient of the loss with respect to the layer's last output, **adds** the gradients of its
/// parameters into ``Parameter`` gradients and returns the gradient with respect to its input.
/// Shapes exclude the batch dimension, which always comes first.
///
/// A layer describes itself: a stable ``typeName`` and a `Codable` ``Configuration`` from which
/// ``init(configuration:)`` makes an equal, unbuilt layer. Model files store
/// `{"type": typeName, …configuration}` and a ``ModuleRegistry`` turns it back into a layer, so
/// saving, loading and summaries need no list of layer types.
public protocol Layer: AnyObject, ModuleType {
    /// Everything that defines the layer apart from its weights, in Keras' snake_case keys.
    associatedtype Configuration: Codable & Sendable
    /// The registry key and the type shown in summaries (`Dense`, `LSTM`); never changes once
    /// files have been written with it.
    static var typeName: String { get }
    var configuration: Configuration { get }
    /// A new, unbuilt layer. Throws ``ShapeError`` for a configuration that cannot work
    /// (such as zero units), so that a hostile model file is an error, not a crash.
    init(configuration: Configuration) throws

    /// Unique within its container (`dense`, `dense_1`, …); the first part of its parameters' paths.
    var name: String { get set }
    /// Creates the parameters (through `context`, which initialises them and bounds their size)
    /// for inputs of `inputShape`, returning the output shape. Throws ``ShapeError`` when the
    /// shape does not fit the layer.
    func build(inputShape: [Int], context: inout BuildContext) throws -> [Int]
    func forward(_ input: Tensor, context: ForwardContext) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    /// The layer's own parameters and buffers (non-trainable parameters), not its children's.
    var parameters: [Parameter] { get }
    /// Layers inside this one, by the name each contributes to parameter paths
    /// (`Bidirectional`: `forward`, `backward`).
    var children: [(name: String, layer: any Layer)] { get }
    /// When false, `backward` may skip the input gradient (a first layer's is never used) and
    /// return an empty tensor of shape [0].
    var needsInputGradient: Bool { get set }
    /// Multiply-adds ×2 of one sample's forward pass, for throughput figures.
    func forwardFLOPs(inputShape: [Int]) -> Int
    /// Floats of workspace a training pass over `batchSize` samples keeps beyond the layer's
    /// output and its gradient (which ``MemoryEstimate`` counts for every layer), once built.
    func workspaceValues(inputShape: [Int], batchSize: Int) -> Int
    /// The configuration keys that a model spec's positional arguments fill, in order
    /// (`dense(512, relu)`: `units`, `activation`); see ``ModelSpec``.
    static var positionalKeys: [String] { get }
    /// Other names a model spec accepts for the layer (``SimpleRNN``: `rnn`), besides its type name.
    static var specAliases: [String] { get }
    /// Shorter names a model spec accepts for configuration keys (``Bidirectional``: `merge` for
    /// `merge_mode`). A spec key that is neither a configuration key nor one of these is an error.
    static var specKeyAliases: [String: String] { get }
    /// Given padded sequences (``ForwardContext/sequenceLengths``) whose lengths describe this
    /// layer's input, whether they describe its output too (it keeps the steps, and padding steps
    /// stay padding). Throws ``ShapeError`` (``ShapeError/mixesPadding(_:)``) where the layer
    /// would mix padding into real values or change what a step is: the default, as in Keras,
    /// where a layer that does not say it supports masking refuses a mask. Layers that work step
    /// by step return true; recurrent layers use the lengths and return ``RecurrentLayer/returnSequences``.
    func passesPaddedSequences() throws -> Bool
    /// Throws ``ShapeError`` when a batch holds values the layer cannot take as inputs (an
    /// ``Embedding``'s index outside its table), naming the value. A model asks its first layer
    /// before each pass of `fit`, `evaluate` and `predict`, since `forward` cannot throw; most
    /// layers take any value (the default).
    func checkInput(_ input: Tensor) throws
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }
    public func forwardFLOPs(inputShape: [Int]) -> Int { 0 }
    public static var positionalKeys: [String] { [] }
    public static var specAliases: [String] { [] }
    public static var specKeyAliases: [String: String] { [:] }
    public func passesPaddedSequences() throws -> Bool { throw ShapeError.mixesPadding(self) }
    public func checkInput(_ input: Tensor) throws {}
    /// By default, a container's children's workspaces (each counted at the container's input
    /// shape: exact for parallel children, an estimate along a chain); none for a leaf.
    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        children.reduce(0) { saturatingSum($0, $1.layer.workspaceValues(inputShape: inputShape, batchSize: batchSize)) }
    }

    /// The type shown in summaries: ``typeName``.
    public var typeName: String { Self.typeName }

    /// A forward pass with a context of its own (a layer used on its own, as in tests).
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        forward(input, context: ForwardContext(training: training))
    }

    /// Builds with the `initialization` stream of a generator and no size bound.
    @discardableResult
    public func build(inputShape: [Int], generator: inout RandomGenerator) throws -> [Int] {
        var context = BuildContext(generator: generator)
        defer { generator = context.generator }
        return try build(inputShape: inputShape, context: &context)
    }

    /// Every parameter of this layer and its children, depth first, with its path below this layer
    /// (`kernel`, `forward.kernel`, …): the order parameters are saved, updated and counted in.
    public var namedParameters: [(path: String, parameter: Parameter)] {
        var result: [(path: String, parameter: Parameter)] = []
        walk(prefix: "") { path, layer in
            for parameter in layer.parameters { result.append((path + parameter.localName, parameter)) }
        }
        return result
    }

    /// Calls `visit` on this layer and every layer inside it, depth first, with the path prefix
    /// of its parameters (`""`, `forward.`, …).
    public func walk(prefix: String, _ visit: (String, any Layer) -> Void) {
        visit(prefix, self)
        for child in children { child.layer.walk(prefix: prefix + child.name + ".", visit) }
    }

    /// Parameters of this layer and its children (buffers included), in walk order.
    public var allParameters: [Parameter] { namedParameters.map(\.parameter) }
    public var parameterCount: Int { allParameters.reduce(0) { $0 + $1.count } }
    public var trainableParameterCount: Int { allParameters.filter(\.isTrainable).reduce(0) { $0 + $1.count } }
}

/// A layer whose passes can use several threads (``Dense``, the recurrent layers): a model sets
/// them all at once (``Sequential/threads``).
public protocol ThreadedLayer: Layer {
    /// Threads the layer's passes use.
    var threads: Int { get set }
}

/// A layer that runs through time (``LSTM``, ``Bidirectional``): what a model sets on all of them
/// at once, and what ``Bidirectional`` needs of the layer it runs both ways.
public protocol RecurrentLayer: ThreadedLayer {
    /// The format of the layer's matrix products.
    var precision: Precision { get set }
    /// Whether the output has every step (`[steps, units]`) or the last one (`[units]`).
    var returnSequences: Bool { get }
    /// The same configuration, unbuilt, processing the sequence in the other direction.
    func reversedCopy() -> Self
}

/// Padded sequences through `layers` one after another (a ``Chain``, a model): whether their
/// lengths still describe the last output. Once an output no longer has the steps (a recurrent
/// layer's last state), later layers need not take them.
func passPaddedSequences(through layers: [any Layer]) throws -> Bool {
    for layer in layers where !(try layer.passesPaddedSequences()) { return false }
    return true
}

extension RecurrentLayer {
    /// A recurrent layer skips each sample's padding steps; its output keeps them (as zeros) only
    /// with every step's output.
    public func passesPaddedSequences() -> Bool { returnSequences }
}

/// A layer whose output is an activation of pre-activation values it keeps (``Dense``): a loss
/// fused with that activation (``LossFunction/fusedActivation``) starts backward from them.
public protocol OutputActivationLayer: Layer {
    var activation: Activation { get }
    /// The pre-activation outputs of the last forward pass.
    var lastLogits: Tensor { get }
    /// Backward from the gradient with respect to ``lastLogits``.
    func backward(logitsGradient: Tensor) -> Tensor
}

/// A shape that does not fit what a layer or model expects.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// Whether the shape fits but is too large to allocate (rather than not fitting at all).
    public let isTooLarge: Bool
    public init(_ description: String, isTooLarge: Bool = false) {
        (self.description, self.isTooLarge) = (description, isTooLarge)
    }

    /// `layer` cannot take padded sequences (see ``Layer/passesPaddedSequences()``).
    public static func mixesPadding(_ layer: any Layer) -> ShapeError {
        ShapeError("padded sequences (sequence lengths) cannot go through \(layer.name) (\(layer.typeName)): it would mix "
                   + "their padding into the real steps or change what a step is. Only layers that work step by step "
                   + "(Embedding, PositionEmbedding, Dense, Activation, Dropout, GaussianNoise, Normalization, LayerNormalization, "
                   + "Rescaling, TimeDistributed) and MultiHeadAttention (which masks padding keys) may take "
                   + "them before the recurrent layer that uses the lengths")
    }
}
