/// ``ActivationLayer`` on the GPU: the activation kernel value by value, and its gradient from
/// the output, as the CPU's. Softmax (over the last axis, with no element-wise gradient) has no
/// form: such a model runs layer by layer.
final class ActivationLayerOnDevice: CUDALayerForm {
    private let layer: ActivationLayer
    private let plan: CUDAPlan
    private let function: Int32, width: Int
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init?(_ layer: ActivationLayer, inputShape: [Int], plan: CUDAPlan) throws {
        guard let function = layer.activation.vectorFunction else { return nil }
        (self.layer, self.plan, self.function, width) = (layer, plan, function, inputShape.reduce(1, *))
        output = try plan.buffer(perSample: width)
        inputGradient = try plan.buffer(perSample: width)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.activate(function, input, into: output, count: batch * width)
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try plan.activationGradient(function, output: output, outputGradient, into: inputGradient, count: batch * width)
        return inputGradient
    }
}

extension ActivationLayer: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ActivationLayerOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
