/// ``Dense`` on the GPU: z = x · kernel + bias (cuBLAS after the bias rows), then the activation;
/// backward, kernel += xᵀ · dz, bias += Σ dz, dx = dz · kernelᵀ. As the last layer of a model
/// trained with softmax cross-entropy it gives its logits (``producesLogits``), and the loss kernel
/// gives their gradient.
final class DenseOnDevice: CUDALayerForm {
    private let layer: Dense
    private let plan: CUDAPlan
    private let rowsPerSample: Int, inputWidth: Int
    private let kernel: CUDABuffer, kernelGradient: CUDABuffer
    private let bias: CUDABuffer?, biasGradient: CUDABuffer?
    private let logits: CUDABuffer, output: CUDABuffer, logitsGradient: CUDABuffer, inputGradient: CUDABuffer
    private var lastInput: CUDABuffer?
    /// Set by the model: forward stops at the logits, and backward takes their gradient.
    var producesLogits = false

    /// Nil for activations without a device kernel (gelu, swish, …).
    init?(_ layer: Dense, inputShape: [Int], plan: CUDAPlan) throws {
        guard layer.activation == .softmax || layer.activation.vectorFunction != nil else { return nil }
        (self.layer, self.plan) = (layer, plan)
        inputWidth = inputShape.last!
        rowsPerSample = inputShape.dropLast().reduce(1, *)
        kernel = plan.values(of: layer.kernel)
        kernelGradient = plan.gradients(of: layer.kernel)
        bias = layer.bias.map { plan.values(of: $0) }
        biasGradient = layer.bias.map { plan.gradients(of: $0) }
        let units = layer.units
        logits = try plan.buffer(perSample: rowsPerSample * units)
        output = try plan.buffer(perSample: rowsPerSample * units)
        logitsGradient = try plan.buffer(perSample: rowsPerSample * units)
        inputGradient = try plan.buffer(perSample: rowsPerSample * inputWidth)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * rowsPerSample, units = layer.units
        lastInput = input
        if let bias {
            try plan.launch("nn_fill_rows", count: rows * units, [.buffer(logits), .buffer(bias), .int(Int32(rows)), .int(Int32(units))])
        }
        try plan.blas.multiply(m: rows, n: units, k: inputWidth, a: input, lda: inputWidth, b: kernel, ldb: units,
                               beta: bias == nil ? 0 : 1, c: logits, ldc: units)
        if producesLogits || layer.activation == .linear { return logits }
        try activate(logits, into: output, batch: batch)
        return output
    }

    /// The activation of `batch` samples' logits.
    func activate(_ z: CUDABuffer, into y: CUDABuffer, batch: Int) throws {
        let rows = batch * rowsPerSample, units = layer.units
        if layer.activation == .softmax {
            try plan.launch("nn_softmax_rows", count: rows, [.buffer(z), .buffer(y), .int(Int32(rows)), .int(Int32(units))])
        } else {
            try plan.launch("nn_apply_activation", count: rows * units,
                            [.buffer(z), .buffer(y), .int(layer.activation.vectorFunction!), .long(rows * units)])
        }
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        let rows = batch * rowsPerSample, units = layer.units
        var dz = outputGradient
        if !producesLogits && layer.activation != .linear {
            guard let function = layer.activation.vectorFunction else {
                throw CUDAError("\(layer.name): a softmax that is not the last layer under cross-entropy has no device backward pass")
            }
            try plan.launch("nn_apply_activation_gradient", count: rows * units,
                            [.buffer(output), .buffer(outputGradient), .buffer(logitsGradient), .int(function), .long(rows * units)])
            dz = logitsGradient
        }
        try plan.blas.multiply(transposeA: true, m: inputWidth, n: units, k: rows, a: lastInput!, lda: inputWidth, b: dz,
                               ldb: units, beta: 1, c: kernelGradient, ldc: units)
        if let biasGradient {
            try plan.launch("nn_add_column_sums", count: units,
                            [.buffer(dz), .buffer(biasGradient), .int(Int32(rows)), .int(Int32(units))])
        }
        guard layer.needsInputGradient else { return nil }
        try plan.blas.multiply(transposeB: true, m: rows, n: inputWidth, k: units, a: dz, lda: units, b: kernel, ldb: units,
                               beta: 0, c: inputGradient, ldc: inputWidth)
        return inputGradient
    }
}

extension Dense: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try DenseOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
