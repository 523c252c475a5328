/// The affine half of ``Dense`` and of a convolution on its patch rows, on the GPU: over the
/// batch's rows, z = x · kernel + bias (cuBLAS after the bias rows), then the activation;
/// backward, kernel += xᵀ · dz, bias += Σ dz, and the rows' gradient dx = dz · kernelᵀ where the
/// layer needs it. As a model's last layer it gives its logits (``producesLogits``): the model
/// applies the activation and its gradient around the loss, or lets a loss fused with it do both.
final class AffineOnDevice {
    private let plan: CUDAPlan
    private let name: String
    private let activation: Activation
    private let rowsPerSample: Int, inputWidth: Int, units: Int
    private let kernel: CUDABuffer, kernelGradient: CUDABuffer
    private let bias: CUDABuffer?, biasGradient: CUDABuffer?
    private let logits: CUDABuffer, output: CUDABuffer, logitsGradient: CUDABuffer
    private var lastInput: CUDABuffer?
    /// Set by the model: forward stops at the logits, and backward takes their gradient.
    var producesLogits = false

    /// `rowsPerSample` rows of
    /// `inputWidth` values per sample in, as many of `units` out; `kernel` [inputWidth, units].
    init(_ name: String, kernel: Parameter, bias: Parameter?, activation: Activation, rowsPerSample: Int, inputWidth: Int,
          units: Int, plan: CUDAPlan) throws {
        (self.name, self.plan, self.activation) = (name, plan, activation)
        (self.rowsPerSample, self.inputWidth, self.units) = (rowsPerSample, inputWidth, units)
        self.kernel = plan.values(of: kernel)
        kernelGradient = plan.gradients(of: kernel)
        self.bias = bias.map { plan.values(of: $0) }
        biasGradient = bias.map { plan.gradients(of: $0) }
        logits = try plan.buffer(perSample: rowsPerSample * units)
        output = try plan.buffer(perSample: rowsPerSample * units)
        logitsGradient = try plan.buffer(perSample: rowsPerSample * units)
        if bias != nil { try plan.reserveColumnSums(rows: plan.capacity * rowsPerSample) }
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * rowsPerSample
        lastInput = input
        if let bias {
            try plan.launch("nn_fill_rows", count: rows * units, [.buffer(logits), .buffer(bias), .int(Int32(rows)), .int(Int32(units))])
        }
        try plan.blas.multiply(m: rows, n: units, k: inputWidth, a: input, lda: inputWidth, b: kernel, ldb: units,
                               beta: bias == nil ? 0 : 1, c: logits, ldc: units)
        if producesLogits || activation == .linear { return logits }
        try activate(logits, into: output, batch: batch)
        return output
    }

    /// The activation of `batch` samples' logits.
    func activate(_ z: CUDABuffer, into y: CUDABuffer, batch: Int) throws {
        let rows = batch * rowsPerSample
        if activation == .softmax {
            try plan.launch("nn_softmax_rows", count: rows, [.buffer(z), .buffer(y), .int(Int32(rows)), .int(Int32(units))])
        } else {
            try plan.activate(activation.deviceFunction!, z, into: y, count: rows * units)
        }
    }

    /// dz = the activation's backward pass on dy, from its output y (softmax's Jacobian along each row).
    func activationGradient(output y: CUDABuffer, _ dy: CUDABuffer, into dz: CUDABuffer, batch: Int) throws {
        let rows = batch * rowsPerSample
        if activation == .softmax {
            try plan.launch("nn_softmax_rows_gradient", count: rows,
                            [.buffer(y), .buffer(dy), .buffer(dz), .int(Int32(rows)), .int(Int32(units))])
        } else {
            // The input, where the derivative needs it: this pass's logits.
            try plan.activationGradient(activation.deviceFunction!, input: activation.derivativeFromOutput ? nil : logits,
                                        output: y, dy, into: dz, count: rows * units)
        }
    }

    /// Adds the kernel's and bias's gradients, then writes the rows' gradient into `dx` when given
    /// (after the kernel's gradient has read the input: `dx` may be that input's buffer).
    func backward(_ outputGradient: CUDABuffer, batch: Int, into dx: CUDABuffer?) throws {
        let rows = batch * rowsPerSample
        var dz = outputGradient
        if !producesLogits && activation != .linear {
            try activationGradient(output: output, outputGradient, into: logitsGradient, batch: batch)
            dz = logitsGradient
        }
        try plan.blas.multiply(transposeA: true, m: inputWidth, n: units, k: rows, a: lastInput!, lda: inputWidth, b: dz,
                               ldb: units, beta: 1, c: kernelGradient, ldc: units)
        if let biasGradient {
            try plan.addColumnSums(of: dz, rows: rows, width: units, into: biasGradient)
        }
        guard let dx else { return }
        try plan.blas.multiply(transposeB: true, m: rows, n: inputWidth, k: units, a: dz, lda: units, b: kernel, ldb: units,
                               beta: 0, c: dx, ldc: inputWidth)
    }
}
