/// A 1-D layer that is a 2-D layer over one-row images, as ``Conv1D`` is a ``Conv2D``: sequences
/// `[steps, features]` are `[1, steps, features]` in memory, and so are its outputs. It keeps that
/// layer as ``images`` and takes from it everything but its configuration: the name, the passes,
/// the input-gradient switch, workspace and FLOPs, threads, the GPU form and the PyTorch module
/// (wrapped in `OneRow`). It changes what a step is, so padded sequences are refused.
public protocol OneRowLayer: PyTorchConvertible, CUDALayer {
    associatedtype Images: PyTorchConvertible & CUDALayer
    /// The 2-D layer that does the work.
    var images: Images { get }
}

extension OneRowLayer {
    public var name: String {
        get { images.name }
        set { images.name = newValue }
    }

    /// The 2-D layer's (none for the library's: pooling, resampling and margins have no weights).
    public var parameters: [Parameter] { images.parameters }

    public var needsInputGradient: Bool {
        get { images.needsInputGradient }
        set { images.needsInputGradient = newValue }
    }

    /// The 2-D layer's output without its row axis, for sequences only (`features` names their
    /// second axis in the error for other shapes).
    public func buildOneRow(inputShape: [Int], context: inout BuildContext, features: String = "features") throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("\(name): \(Self.typeName) needs sequences [steps, \(features)], got \(inputShape)")
        }
        return Array(try images.build(inputShape: [1] + inputShape, context: &context).dropFirst())
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        try buildOneRow(inputShape: inputShape, context: &context)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        images.forward(input.withOneRowAxis(adding: true), context: context).withOneRowAxis(adding: false)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let gradient = images.backward(outputGradient.withOneRowAxis(adding: true))
        return needsInputGradient ? gradient.withOneRowAxis(adding: false) : gradient
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { images.forwardFLOPs(inputShape: [1] + inputShape) }

    public func workspaceValues(inputShape: [Int], batchSize: Int) -> Int {
        images.workspaceValues(inputShape: [1] + inputShape, batchSize: batchSize)
    }

    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try images.cudaForm(inputShape: [1] + inputShape, plan: plan)
    }

    public func pyTorchModules() throws -> [PyTorchModule] { try images.pyTorchModules().map(PyTorchModule.oneRow) }
}

extension OneRowLayer where Images: ThreadedLayer {
    public var threads: Int {
        get { images.threads }
        set { images.threads = newValue }
    }
}
