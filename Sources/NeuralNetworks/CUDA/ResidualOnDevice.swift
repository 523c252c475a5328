/// ``Residual`` on the GPU: y = body(x) + x, or body(x) + projection(x), each through its
/// layers' forms; backward, the body's input gradient plus the skip's (the output's gradient, or
/// the projection's input gradient).
final class ResidualOnDevice: CUDALayerForm {
    private let layer: Residual
    private let plan: CUDAPlan
    private let body: CUDAFormSequence, projection: (any CUDALayerForm)?
    private let inputWidth: Int, outputWidth: Int  // values per sample
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init?(_ layer: Residual, inputShape: [Int], plan: CUDAPlan) throws {
        guard let body = try CUDAFormSequence(layer.body.layers, outputShapes: layer.body.layerOutputShapes,
                                              inputShape: inputShape, plan: plan) else { return nil }
        var projection: (any CUDALayerForm)?
        if let skip = layer.projection {
            guard let form = try (skip as? any CUDALayer)?.cudaForm(inputShape: inputShape, plan: plan) else { return nil }
            projection = form
        }
        (self.layer, self.plan, self.body, self.projection) = (layer, plan, body, projection)
        inputWidth = inputShape.reduce(1, *)
        outputWidth = layer.body.layerOutputShapes.last!.reduce(1, *)
        output = try plan.buffer(perSample: outputWidth)
        inputGradient = try plan.buffer(perSample: inputWidth)
    }

    func prepare(batch: Int, context: ForwardContext) throws {
        try body.prepare(batch: batch, context: context)
        try projection?.prepare(batch: batch, context: context)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let count = batch * outputWidth
        try output.copy(from: try body.forward(input, batch: batch), count: count, on: plan.stream(.first))
        let skip = try projection?.forward(input, batch: batch) ?? input
        try plan.launch("nn_add_values", count: count, [.buffer(skip), .buffer(output), .long(count)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        let bodyGradient = try body.backward(outputGradient, batch: batch)
        let skipGradient = try projection.map { try $0.backward(outputGradient, batch: batch) } ?? outputGradient
        guard layer.needsInputGradient, let bodyGradient, let skipGradient else { return nil }
        let count = batch * inputWidth
        try inputGradient.copy(from: bodyGradient, count: count, on: plan.stream(.first))
        try plan.launch("nn_add_values", count: count, [.buffer(skipGradient), .buffer(inputGradient), .long(count)])
        return inputGradient
    }
}

extension Residual: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ResidualOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
