/// A layer with explicit forward and backward passes.
///
/// `forward` keeps what `backward` needs in the layer's own workspace; `backward` takes the
/// gradient of the loss with respect to the layer's last output, **adds** the gradients of its
/// parameters into ``Parameter`` gradients and returns the gradient with respect to its input.
/// Shapes exclude the batch dimension, which always comes first.
public protocol Layer: AnyObject {
    /// Unique within a model (`dense`, `dense_1`, …); prefixes the parameter names.
    var name: String { get set }
    /// The Keras-style type shown in summaries, such as `LSTM`.
    var typeName: String { get }
    /// Creates and initialises the parameters for inputs of `inputShape`, returning the output
    /// shape. Throws ``ShapeError`` when the shape does not fit the layer.
    func build(inputShape: [Int], generator: inout RandomGenerator) throws -> [Int]
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ outputGradient: Tensor) -> Tensor
    var parameters: [Parameter] { get }
    /// When false, `backward` skips the input gradient (a first layer's is never used) and
    /// returns an empty tensor of shape [0].
    var needsInputGradient: Bool { get set }
    /// Multiply-adds ×2 of one sample's forward pass, for throughput figures.
    func forwardFLOPs(inputShape: [Int]) -> Int
}

/// A layer that runs through time (``LSTM``, ``Bidirectional``): what a model sets on all of them at once.
public protocol RecurrentLayer: Layer {
    /// The format of the layer's matrix products.
    var precision: Precision { get set }
    /// Threads the layer's passes use.
    var threads: Int { get set }
}

extension Layer {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// A shape that does not fit what a layer or model expects.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
