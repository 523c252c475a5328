/// ``Dense`` on the GPU: its affine pass (``AffineOnDevice``) on each sample's rows (one, or one
/// per step of a sequence). As a model's last layer it gives its logits (``producesLogits``).
final class DenseOnDevice: CUDALayerForm {
    private let layer: Dense
    private let affine: AffineOnDevice
    private let inputGradient: CUDABuffer
    /// Set by the model: forward stops at the logits, and backward takes their gradient.
    var producesLogits: Bool {
        get { affine.producesLogits }
        set { affine.producesLogits = newValue }
    }

    init(_ layer: Dense, inputShape: [Int], plan: CUDAPlan) throws {
        let rowsPerSample = inputShape.dropLast().reduce(1, *)
        let affine = try AffineOnDevice(layer.name, kernel: layer.kernel, bias: layer.bias, activation: layer.activation,
                                        rowsPerSample: rowsPerSample, inputWidth: inputShape.last!, units: layer.units,
                                        plan: plan)
        (self.layer, self.affine) = (layer, affine)
        inputGradient = try plan.buffer(perSample: inputShape.reduce(1, *))
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer { try affine.forward(input, batch: batch) }

    /// The activation of `batch` samples' logits.
    func activate(_ z: CUDABuffer, into y: CUDABuffer, batch: Int) throws { try affine.activate(z, into: y, batch: batch) }

    /// The logits' gradient of `batch` samples from the outputs' (`dy`), the outputs `y`.
    func activationGradient(output y: CUDABuffer, _ dy: CUDABuffer, into dz: CUDABuffer, batch: Int) throws {
        try affine.activationGradient(output: y, dy, into: dz, batch: batch)
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        try affine.backward(outputGradient, batch: batch, into: layer.needsInputGradient ? inputGradient : nil)
        return layer.needsInputGradient ? inputGradient : nil
    }
}

extension Dense: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try DenseOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
