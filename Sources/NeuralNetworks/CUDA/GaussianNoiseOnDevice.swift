/// ``GaussianNoise`` on the GPU: the CPU layer's noise, drawn from the layer's random stream on
/// the host before each training pass (``CUDALayerForm/prepare(batch:context:)``) and uploaded,
/// then added; the gradient passes through. Inference is the identity.
final class GaussianNoiseOnDevice: CUDALayerForm {
    private let layer: GaussianNoise
    private let plan: CUDAPlan
    private let width: Int  // values per sample
    private let noise: CUDAHostDrawnValues
    private let output: CUDABuffer
    private var adds = false  // this pass's: training with a deviation above 0

    init(_ layer: GaussianNoise, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan, width) = (layer, plan, inputShape.reduce(1, *))
        noise = try CUDAHostDrawnValues(plan, perSample: width)
        output = try plan.buffer(perSample: width)
    }

    func prepare(batch: Int, context: ForwardContext) throws {
        adds = context.training && layer.stddev > 0
        guard adds else { return }
        try noise.upload(layer.drawNoise(samples: batch, perSample: width, context: context))
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        guard adds else { return input }
        try output.copy(from: input, count: batch * width, on: plan.stream(.first))
        try plan.launch("nn_add_values", count: batch * width, [.buffer(noise.buffer), .buffer(output), .long(batch * width)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        layer.needsInputGradient ? outputGradient : nil
    }
}

extension GaussianNoise: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try GaussianNoiseOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
