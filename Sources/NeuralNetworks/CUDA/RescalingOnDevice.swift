/// ``Rescaling`` on the GPU: y = x · scale + offset value by value (`nn_scale_values`), and
/// dx = dy · scale.
final class RescalingOnDevice: CUDALayerForm {
    private let layer: Rescaling
    private let plan: CUDAPlan
    private let width: Int  // values per sample
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init(_ layer: Rescaling, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan, width) = (layer, plan, inputShape.reduce(1, *))
        output = try plan.buffer(perSample: width)
        inputGradient = try plan.buffer(perSample: width)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.launch("nn_scale_values", count: batch * width,
                        [.buffer(input), .buffer(output), .float(layer.scale), .float(layer.offset), .long(batch * width)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_scale_values", count: batch * width,
                        [.buffer(outputGradient), .buffer(inputGradient), .float(layer.scale), .float(0), .long(batch * width)])
        return inputGradient
    }
}

extension Rescaling: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try RescalingOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
