/// Layers' device forms one after another: a model's (``CUDAModel``), a ``Chain``'s, a
/// ``Residual`` block's body. Nil when a layer has no form.
struct CUDAFormSequence {
    let forms: [any CUDALayerForm]

    /// `layers` with their output shapes, the first one reading `inputShape`.
    init?(_ layers: [any Layer], outputShapes: [[Int]], inputShape: [Int], plan: CUDAPlan) throws {
        precondition(layers.count == outputShapes.count, "an output shape for each layer (build the model first)")
        var shape = inputShape, forms: [any CUDALayerForm] = []
        for (layer, output) in zip(layers, outputShapes) {
            guard let form = try (layer as? any CUDALayer)?.cudaForm(inputShape: shape, plan: plan) else { return nil }
            forms.append(form)
            shape = output
        }
        self.forms = forms
    }

    func prepare(batch: Int, context: ForwardContext) throws {
        for form in forms { try form.prepare(batch: batch, context: context) }
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try forms.reduce(input) { try $1.forward($0, batch: batch) }
    }

    /// Nil once a layer needs no input gradient (the layers before it get none: they have no
    /// parameters, or take the model's input).
    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        var gradient: CUDABuffer? = outputGradient
        for form in forms.reversed() {
            guard let current = gradient else { return nil }
            gradient = try form.backward(current, batch: batch)
        }
        return gradient
    }
}

/// ``Chain`` on the GPU: its layers' forms one after another.
final class ChainOnDevice: CUDALayerForm {
    private let body: CUDAFormSequence
    init(_ body: CUDAFormSequence) { self.body = body }
    func prepare(batch: Int, context: ForwardContext) throws { try body.prepare(batch: batch, context: context) }
    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer { try body.forward(input, batch: batch) }
    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        try body.backward(outputGradient, batch: batch)
    }
}

extension Chain: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try CUDAFormSequence(layers, outputShapes: layerOutputShapes, inputShape: inputShape, plan: plan).map(ChainOnDevice.init)
    }
}
