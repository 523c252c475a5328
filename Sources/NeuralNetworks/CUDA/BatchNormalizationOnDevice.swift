/// ``BatchNormalization`` on the GPU, the CPU layer's passes over rows of channels: in training,
/// the batch's per-channel sums as products by ones (Σx, then Σ(x − μ)² after
/// `nn_batch_norm_center`), the statistics and moving averages (`nn_batch_norm_statistics`, one
/// thread per channel), then x̂ and y; in inference, the moving averages. Backward, Σ dy·x̂ and
/// Σ dy (γ's and β's gradients) and dx from them.
final class BatchNormalizationOnDevice: CUDALayerForm {
    private let layer: BatchNormalization
    private let plan: CUDAPlan
    private let rowsPerSample: Int, width: Int
    private let gamma: CUDABuffer, beta: CUDABuffer, movingMean: CUDABuffer, movingVariance: CUDABuffer
    private let gammaAndBetaGradients: CUDABuffer  // [γ; β]: one block, as the plan lays them out
    private let sums: CUDABuffer, inverse: CUDABuffer
    private let normalized: CUDABuffer, output: CUDABuffer, inputGradient: CUDABuffer
    private let scratch: CUDABuffer  // (x − μ)² forward, dy·x̂ backward
    private var training = false  // this pass's

    init(_ layer: BatchNormalization, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan) = (layer, plan)
        width = inputShape.last!
        rowsPerSample = inputShape.reduce(1, *) / width
        (gamma, beta) = (plan.values(of: layer.gamma), plan.values(of: layer.beta))
        (movingMean, movingVariance) = (plan.values(of: layer.movingMean), plan.values(of: layer.movingVariance))
        gammaAndBetaGradients = plan.gradients(of: layer.gamma, layer.beta)
        sums = try plan.buffer(perSample: 2 * width, samples: 1)
        inverse = try plan.buffer(perSample: width, samples: 1)
        let values = rowsPerSample * width
        (normalized, output) = (try plan.buffer(perSample: values), try plan.buffer(perSample: values))
        (inputGradient, scratch) = (try plan.buffer(perSample: values), try plan.buffer(perSample: values))
        try plan.reserveColumnSums(rows: plan.capacity * rowsPerSample)
    }

    func prepare(batch: Int, context: ForwardContext) throws { training = context.training }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * rowsPerSample, (r, w) = (Int32(batch * rowsPerSample), Int32(width))
        guard training else {
            try plan.launch("nn_batch_norm_inference", count: rows * width,
                            [.buffer(input), .buffer(gamma), .buffer(beta), .buffer(movingMean), .buffer(movingVariance),
                             .buffer(output), .int(r), .int(w), .float(layer.epsilon)])
            return output
        }
        let (sum, squareSum) = (sums.view(offset: 0, count: width), sums.view(offset: width, count: width))
        try plan.addColumnSums(of: input, rows: rows, width: width, into: sum, accumulate: false)
        try plan.launch("nn_batch_norm_center", count: rows * width,
                        [.buffer(input), .buffer(sums), .buffer(scratch), .int(r), .int(w)])
        try plan.addColumnSums(of: scratch, rows: rows, width: width, into: squareSum, accumulate: false)
        try plan.launch("nn_batch_norm_statistics", count: width,
                        [.buffer(sums), .buffer(inverse), .buffer(movingMean), .buffer(movingVariance), .int(r), .int(w),
                         .float(layer.epsilon), .float(layer.momentum)])
        try plan.launch("nn_batch_norm_forward", count: rows * width,
                        [.buffer(input), .buffer(sums), .buffer(inverse), .buffer(gamma), .buffer(beta), .buffer(normalized),
                         .buffer(output), .int(r), .int(w)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard training else { throw CUDAError("\(layer.name): backward needs a training pass first") }
        let rows = batch * rowsPerSample
        // sums = [Σ dy·x̂; Σ dy], which are also [γ; β]'s gradients.
        try plan.launch("nn_multiply_values", count: rows * width,
                        [.buffer(outputGradient), .buffer(normalized), .buffer(scratch), .long(rows * width)])
        try plan.addColumnSums(of: scratch, rows: rows, width: width, into: sums.view(offset: 0, count: width),
                               accumulate: false)
        try plan.addColumnSums(of: outputGradient, rows: rows, width: width, into: sums.view(offset: width, count: width),
                               accumulate: false)
        try plan.launch("nn_add_values", count: 2 * width, [.buffer(sums), .buffer(gammaAndBetaGradients), .long(2 * width)])
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_batch_norm_backward", count: rows * width,
                        [.buffer(outputGradient), .buffer(normalized), .buffer(sums), .buffer(gamma), .buffer(inverse),
                         .buffer(inputGradient), .int(Int32(rows)), .int(Int32(width))])
        return inputGradient
    }
}

extension BatchNormalization: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try BatchNormalizationOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
