/// Layers applied one after another, as one layer: the body of a ``Residual``, a branch of a
/// ``Concatenate``. (``Sequential`` is the model around such a list; `Chain` is a layer inside one.)
public final class Chain: Layer {
    public static let typeName = "Chain"
    public static let positionalKeys = ["layers"]
    public var name = "chain"
    public let layers: [any Layer]
    /// Each layer's output shape (one sample), from the last build.
    private(set) var layerOutputShapes: [[Int]] = []

    public init(_ layers: [any Layer]) {
        precondition(!layers.isEmpty, "a chain needs at least one layer")
        self.layers = layers
        LayerNames.assign(layers)
    }

    public convenience init(@LayerBuilder _ layers: () -> [any Layer]) { self.init(layers()) }

    public struct Configuration: Codable, Sendable { public var layers: [LayerDescription] }
    public var configuration: Configuration { Configuration(layers: layers.map { LayerDescription($0) }) }
    public convenience init(configuration: Configuration) throws {
        guard !configuration.layers.isEmpty else { throw ShapeError("a chain needs at least one layer") }
        self.init(try configuration.layers.map { try $0.makeLayer() })
    }

    public var children: [(name: String, layer: any Layer)] { layers.map { ($0.name, $0) } }

    public var needsInputGradient: Bool {
        get { layers[0].needsInputGradient }
        set { layers[0].needsInputGradient = newValue }
    }

    /// In order, until a layer's output no longer has the padded steps (a recurrent layer's last state).
    public func passesPaddedSequences() throws -> Bool { try passPaddedSequences(through: layers) }

    /// The first layer's check: it reads the chain's input.
    public func checkInput(_ input: Tensor) throws { try layers[0].checkInput(input) }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        layerOutputShapes = []
        return try layers.reduce(inputShape) { shape, layer in
            let output = try layer.build(inputShape: shape, context: &context)
            layerOutputShapes.append(output)
            return output
        }
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        layers.reduce(input) { $1.forward($0, context: context) }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        layers.reversed().reduce(outputGradient) { $1.backward($0) }
    }
}

/// Keras-style names that are unique within one container: `dense`, `dense_1`, `lstm`, …
enum LayerNames {
    static func assign(_ layers: [any Layer]) {
        var used: [String: Int] = [:]
        for layer in layers {
            let base = snakeCase(layer.typeName)
            let n = used[base, default: 0]
            used[base] = n + 1
            layer.name = n == 0 ? base : "\(base)_\(n)"
        }
    }

    /// `GaussianNoise` → `gaussian_noise`, `LSTM` → `lstm`, `SimpleRNN` → `simple_rnn`: a capital
    /// starts a word after a small letter, or before one when it ends a run of capitals.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        return characters.indices.map { i in
            let c = characters[i]
            guard c.isUppercase, i > 0 else { return c.lowercased() }
            let afterSmall = characters[i - 1].isLowercase
            let endsRun = characters[i - 1].isUppercase && i + 1 < characters.count && characters[i + 1].isLowercase
            return (afterSmall || endsRun ? "_" : "") + c.lowercased()
        }.joined()
    }
}

extension Chain: PyTorchConvertible {
    public func pyTorchModules() throws -> [PyTorchModule] { [try PyTorchModule.sequential(layers)] }
}
