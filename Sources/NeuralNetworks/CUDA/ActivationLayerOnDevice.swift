/// ``ActivationLayer`` on the GPU: the activation kernel value by value (softmax: row by row over
/// the last axis), and its gradient from the output (and the input, for GELU and swish), as the
/// CPU's.
final class ActivationLayerOnDevice: CUDALayerForm {
    private let layer: ActivationLayer
    private let plan: CUDAPlan
    private let width: Int, rowWidth: Int  // values per sample; per row (the last axis)
    private let output: CUDABuffer, inputGradient: CUDABuffer
    private var lastInput: CUDABuffer?

    init(_ layer: ActivationLayer, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan, width, rowWidth) = (layer, plan, inputShape.reduce(1, *), inputShape.last ?? 1)
        output = try plan.buffer(perSample: width)
        inputGradient = try plan.buffer(perSample: width)
    }

    private var activation: Activation { layer.activation }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        lastInput = input
        if let function = activation.deviceFunction {
            try plan.activate(function, input, into: output, count: batch * width)
        } else {
            let rows = batch * (width / rowWidth)
            try plan.launch("nn_softmax_rows", count: rows,
                            [.buffer(input), .buffer(output), .int(Int32(rows)), .int(Int32(rowWidth))])
        }
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        if let function = activation.deviceFunction {
            try plan.activationGradient(function, input: activation.derivativeFromOutput ? nil : lastInput, output: output,
                                        outputGradient, into: inputGradient, count: batch * width)
        } else {
            let rows = batch * (width / rowWidth)
            try plan.launch("nn_softmax_rows_gradient", count: rows,
                            [.buffer(output), .buffer(outputGradient), .buffer(inputGradient), .int(Int32(rows)),
                             .int(Int32(rowWidth))])
        }
        return inputGradient
    }
}

extension ActivationLayer: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ActivationLayerOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
