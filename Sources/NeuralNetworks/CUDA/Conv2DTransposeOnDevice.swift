/// ``Conv2DTranspose`` on the GPU, the CPU layer's passes: the input rows times the kernel
/// transposed (cuBLAS) give each position's patch row, which `nn_col2im` adds up onto the output
/// (after the bias rows), then the activation; backward, the activation's gradient, the bias's
/// (column sums), the gradient's windows as patch rows (`nn_im2col`), and from them the kernel's
/// gradient (`patchesᵀ · x`) and the input's (`patches · kernel`).
final class Conv2DTransposeOnDevice: CUDALayerForm {
    private let layer: Conv2DTranspose
    private let plan: CUDAPlan
    private let geometry: ConvolutionGeometry, deviceGeometry: CUDABuffer
    private let channels: Int
    private let kernel: CUDABuffer, kernelGradient: CUDABuffer, bias: CUDABuffer?, biasGradient: CUDABuffer?
    private let patches: CUDABuffer, scattered: CUDABuffer?
    private let logits: CUDABuffer, output: CUDABuffer, logitsGradient: CUDABuffer, inputGradient: CUDABuffer
    private var lastInput: CUDABuffer?
    private var outputSize: Int { geometry.inputSize }  // the transposed convolution's input is this layer's output

    init(_ layer: Conv2DTranspose, inputShape: [Int], plan: CUDAPlan) throws {
        guard let geometry = layer.geometry else { preconditionFailure("\(layer.name): build the layer first") }
        (self.layer, self.plan, self.geometry) = (layer, plan, geometry)
        channels = inputShape.count == 3 ? inputShape[2] : 1
        deviceGeometry = try plan.deviceCopy(of: geometry)
        (kernel, kernelGradient) = (plan.values(of: layer.kernel), plan.gradients(of: layer.kernel))
        (bias, biasGradient) = (layer.bias.map { plan.values(of: $0) }, layer.bias.map { plan.gradients(of: $0) })
        patches = try plan.buffer(perSample: geometry.outputPositions * geometry.patchSize)
        // col2im writes its sums: with a bias they go here first, then onto the bias rows.
        scattered = layer.bias == nil ? nil : try plan.buffer(perSample: geometry.inputSize)
        (logits, output) = (try plan.buffer(perSample: geometry.inputSize), try plan.buffer(perSample: geometry.inputSize))
        logitsGradient = try plan.buffer(perSample: geometry.inputSize)
        inputGradient = try plan.buffer(perSample: geometry.outputPositions * channels)
        if layer.bias != nil { try plan.reserveColumnSums(rows: plan.capacity * geometry.inputHeight * geometry.inputWidth) }
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * geometry.outputPositions, k = geometry.patchSize, filters = layer.filters
        lastInput = input
        try plan.blas.multiply(transposeB: true, m: rows, n: k, k: channels, a: input, lda: channels, b: kernel, ldb: channels,
                               beta: 0, c: patches, ldc: k)
        let col2im = { (target: CUDABuffer) in
            try self.plan.launch("nn_col2im", count: batch * self.outputSize,
                                 [.buffer(self.patches), .buffer(target), .buffer(self.deviceGeometry), .int(Int32(batch))])
        }
        if let bias, let scattered {
            let outputRows = batch * geometry.inputHeight * geometry.inputWidth
            try plan.launch("nn_fill_rows", count: outputRows * filters,
                            [.buffer(logits), .buffer(bias), .int(Int32(outputRows)), .int(Int32(filters))])
            try col2im(scattered)
            try plan.launch("nn_add_values", count: batch * outputSize,
                            [.buffer(scattered), .buffer(logits), .long(batch * outputSize)])
        } else {
            try col2im(logits)
        }
        guard layer.activation != .linear else { return logits }
        try plan.activate(layer.activation.deviceFunction!, logits, into: output, count: batch * outputSize)
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        let rows = batch * geometry.outputPositions, k = geometry.patchSize
        var dz = outputGradient
        if layer.activation != .linear {
            let activation = layer.activation
            try plan.activationGradient(activation.deviceFunction!, input: activation.derivativeFromOutput ? nil : logits,
                                        output: output, outputGradient, into: logitsGradient, count: batch * outputSize)
            dz = logitsGradient
        }
        if let biasGradient {
            try plan.addColumnSums(of: dz, rows: batch * geometry.inputHeight * geometry.inputWidth, width: layer.filters,
                                   into: biasGradient)
        }
        try plan.launch("nn_im2col", count: rows * k, [.buffer(dz), .buffer(patches), .buffer(deviceGeometry), .int(Int32(batch))])
        try plan.blas.multiply(transposeA: true, m: k, n: channels, k: rows, a: patches, lda: k, b: lastInput!, ldb: channels,
                               beta: 1, c: kernelGradient, ldc: channels)
        guard layer.needsInputGradient else { return nil }
        try plan.blas.multiply(m: rows, n: channels, k: k, a: patches, lda: k, b: kernel, ldb: channels, beta: 0,
                               c: inputGradient, ldc: channels)
        return inputGradient
    }
}

extension Conv2DTranspose: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try Conv2DTransposeOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
