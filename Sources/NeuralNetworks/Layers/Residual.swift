/// A skip connection, `y = f(x) + x` (He et al.'s residual block), or `y = f(x) + P(x)` with a
/// `projection` P (a ``Dense`` or any layer) where f changes the width. f is a ``Chain``.
/// Backward: `dx = f′ᵀ·dy + (P′ᵀ·dy or dy)`.
public final class Residual: Layer {
    public static let typeName = "Residual"
    public static let positionalKeys = ["layers"]
    public var name = "residual"
    public let body: Chain
    public let projection: (any Layer)?
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward
    public var needsInputGradient = true {
        didSet { shareInputGradientNeed() }
    }

    public init(projection: (any Layer)? = nil, _ layers: [any Layer]) {
        body = Chain(layers)
        body.name = "body"
        self.projection = projection
        projection?.name = "projection"
        shareInputGradientNeed()
    }

    public convenience init(projection: (any Layer)? = nil, @LayerBuilder _ layers: () -> [any Layer]) {
        self.init(projection: projection, layers())
    }

    private func shareInputGradientNeed() {
        body.needsInputGradient = needsInputGradient
        projection?.needsInputGradient = needsInputGradient
    }

    public struct Configuration: Codable, Sendable {
        public var layers: [LayerDescription]
        public var projection: LayerDescription?
    }
    public var configuration: Configuration {
        Configuration(layers: body.layers.map { LayerDescription($0) }, projection: projection.map { LayerDescription($0) })
    }
    public convenience init(configuration: Configuration) throws {
        guard !configuration.layers.isEmpty else { throw ShapeError("a residual block needs at least one layer") }
        self.init(projection: try configuration.projection?.makeLayer(), try configuration.layers.map { try $0.makeLayer() })
    }

    public var children: [(name: String, layer: any Layer)] {
        [("body", body as any Layer)] + (projection.map { [("projection", $0)] } ?? [])
    }

    /// The block's and the projection's checks: both read the input.
    public func checkInput(_ input: Tensor) throws {
        try body.checkInput(input)
        try projection?.checkInput(input)
    }

    /// The block and the skip each as they take them; the sum keeps padded steps if either does.
    public func passesPaddedSequences() throws -> Bool {
        let block = try body.passesPaddedSequences()
        return try projection?.passesPaddedSequences() ?? true || block
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        let output = try body.build(inputShape: inputShape, context: &context)
        let skip = try projection?.build(inputShape: inputShape, context: &context) ?? inputShape
        guard output == skip else {
            throw ShapeError("\(name): the block outputs \(output) but the skip carries \(skip)"
                             + (projection == nil ? "; give it a projection" : ""))
        }
        return output
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        var output = body.forward(input, context: context)
        backend = context.backend
        backend.add(projection?.forward(input, context: context) ?? input, into: &output)
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var inputGradient = body.backward(outputGradient)
        let skip = projection?.backward(outputGradient) ?? outputGradient
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        backend.add(skip, into: &inputGradient)
        return inputGradient
    }
}

extension Residual: PyTorchConvertible {
    /// `Residual(body, projection)`, each an `nn.Sequential`: tensors `body.0.weight`, `projection.0.weight`.
    public func pyTorchModules() throws -> [PyTorchModule] {
        let body = try PyTorchModule.sequential(self.body.layers)
        let projection = try self.projection.map { try PyTorchModule.sequential([$0]) }
        var module = PyTorchModule("Residual(\n" + PyTorchModule.indent(body.code) + (projection.map {
            ",\n" + PyTorchModule.indent($0.code) } ?? "") + ")", helpers: ["Residual": """
            class Residual(nn.Module):
                \"\"\"y = body(x) + x, or body(x) + projection(x).\"\"\"
                def __init__(self, body, projection=None):
                    super().__init__()
                    self.body = body
                    self.projection = projection

                def forward(self, x):
                    return self.body(x) + (x if self.projection is None else self.projection(x))
            """])
        module.include(body, under: "body.")
        if let projection { module.include(projection, under: "projection.") }
        return [module]
    }
}
