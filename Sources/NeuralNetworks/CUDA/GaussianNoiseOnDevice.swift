/// ``GaussianNoise`` on the GPU: the CPU layer's noise, drawn from the layer's random stream on
/// the host before each training pass (``CUDALayerForm/prepare(batch:context:)``) and uploaded,
/// then added; the gradient passes through. Inference is the identity.
final class GaussianNoiseOnDevice: CUDALayerForm {
    private let layer: GaussianNoise
    private let plan: CUDAPlan
    private let width: Int  // values per sample
    private let noise: CUDABuffer, output: CUDABuffer
    /// Page-locked: the noise on its way up (written again only after the step's results came down).
    private let hostNoise: CUDAHostBuffer
    private var adds = false  // this pass's: training with a deviation above 0

    init(_ layer: GaussianNoise, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan, width) = (layer, plan, inputShape.reduce(1, *))
        noise = try plan.buffer(perSample: width)
        output = try plan.buffer(perSample: width)
        hostNoise = try CUDAHostBuffer(plan.device, count: plan.capacity * width)
    }

    func prepare(batch: Int, context: ForwardContext) throws {
        adds = context.training && layer.stddev > 0
        guard adds else { return }
        try layer.drawNoise(samples: batch, perSample: width, context: context).withUnsafeBufferPointer {
            try hostNoise.upload($0, into: noise)
        }
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        guard adds else { return input }
        try output.copy(from: input, count: batch * width, on: plan.stream(.first))
        try plan.launch("nn_add_values", count: batch * width, [.buffer(noise), .buffer(output), .long(batch * width)])
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
