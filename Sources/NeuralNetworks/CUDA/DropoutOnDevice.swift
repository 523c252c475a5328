/// ``Dropout`` on the GPU: the mask is the CPU layer's, drawn from the layer's random stream on
/// the host before each training pass (``CUDALayerForm/prepare(batch:context:)``) and uploaded,
/// so a seed repeats the CPU's run and a checkpoint resumes it; forward and backward multiply by
/// it. Inference is the identity.
final class DropoutOnDevice: CUDALayerForm {
    private let layer: Dropout
    private let plan: CUDAPlan
    private let width: Int  // values per sample
    private let mask: CUDAHostDrawnValues
    private let output: CUDABuffer, inputGradient: CUDABuffer
    private var drops = false  // this pass's: training with a rate above 0

    init(_ layer: Dropout, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan, width) = (layer, plan, inputShape.reduce(1, *))
        mask = try CUDAHostDrawnValues(plan, perSample: width)
        output = try plan.buffer(perSample: width)
        inputGradient = try plan.buffer(perSample: width)
    }

    func prepare(batch: Int, context: ForwardContext) throws {
        drops = context.training && layer.rate > 0
        guard drops else { return }
        try mask.upload(layer.drawMask(samples: batch, perSample: width, context: context))
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        guard drops else { return input }
        try plan.launch("nn_multiply_values", count: batch * width,
                        [.buffer(input), .buffer(mask.buffer), .buffer(output), .long(batch * width)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        guard drops else { return outputGradient }
        try plan.launch("nn_multiply_values", count: batch * width,
                        [.buffer(outputGradient), .buffer(mask.buffer), .buffer(inputGradient), .long(batch * width)])
        return inputGradient
    }
}

extension Dropout: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try DropoutOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
