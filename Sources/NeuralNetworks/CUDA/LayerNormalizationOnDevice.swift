/// ``LayerNormalization`` on the GPU, the CPU layer's passes row by row (a row: one position's
/// features): forward, each row's statistics, x̂ and y (`nn_layer_norm_forward`, one thread per
/// row); backward, Σ dy·x̂ and Σ dy over the rows added into γ's and β's gradients (products
/// by ones) and dx from each row's means (`nn_layer_norm_backward`).
final class LayerNormalizationOnDevice: CUDALayerForm {
    private let layer: LayerNormalization
    private let plan: CUDAPlan
    private let rowsPerSample: Int, width: Int
    private let gamma: CUDABuffer, beta: CUDABuffer
    private let gammaGradient: CUDABuffer, betaGradient: CUDABuffer
    private let inverse: CUDABuffer
    private let normalized: CUDABuffer, output: CUDABuffer, inputGradient: CUDABuffer
    private let scratch: CUDABuffer  // dy·x̂

    init(_ layer: LayerNormalization, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan) = (layer, plan)
        width = inputShape.last!
        rowsPerSample = inputShape.reduce(1, *) / width
        (gamma, beta) = (plan.values(of: layer.gamma), plan.values(of: layer.beta))
        (gammaGradient, betaGradient) = (plan.gradients(of: layer.gamma), plan.gradients(of: layer.beta))
        inverse = try plan.buffer(perSample: rowsPerSample)
        let values = rowsPerSample * width
        (normalized, output) = (try plan.buffer(perSample: values), try plan.buffer(perSample: values))
        (inputGradient, scratch) = (try plan.buffer(perSample: values), try plan.buffer(perSample: values))
        try plan.reserveColumnSums(rows: plan.capacity * rowsPerSample)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * rowsPerSample
        try plan.launch("nn_layer_norm_forward", count: rows,
                        [.buffer(input), .buffer(gamma), .buffer(beta), .buffer(normalized), .buffer(inverse), .buffer(output),
                         .int(Int32(rows)), .int(Int32(width)), .float(layer.epsilon)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        let rows = batch * rowsPerSample
        // dγ += Σ dy·x̂, dβ += Σ dy over the rows.
        try plan.launch("nn_multiply_values", count: rows * width,
                        [.buffer(outputGradient), .buffer(normalized), .buffer(scratch), .long(rows * width)])
        try plan.addColumnSums(of: scratch, rows: rows, width: width, into: gammaGradient)
        try plan.addColumnSums(of: outputGradient, rows: rows, width: width, into: betaGradient)
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_layer_norm_backward", count: rows,
                        [.buffer(outputGradient), .buffer(normalized), .buffer(gamma), .buffer(inverse), .buffer(inputGradient),
                         .int(Int32(rows)), .int(Int32(width))])
        return inputGradient
    }
}

extension LayerNormalization: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try LayerNormalizationOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
