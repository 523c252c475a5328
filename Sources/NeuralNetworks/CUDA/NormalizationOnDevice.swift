/// ``Normalization`` on the GPU: y = (x − mean) / max(√variance, ε) per feature, with the adapted
/// mean and variance (buffers) read from the plan's parameters; the gradient is dy scaled alike.
final class NormalizationOnDevice: CUDALayerForm {
    private let layer: Normalization
    private let plan: CUDAPlan
    private let width: Int  // values per sample
    private let mean: CUDABuffer, variance: CUDABuffer
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init(_ layer: Normalization, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan, width) = (layer, plan, inputShape.reduce(1, *))
        (mean, variance) = (plan.values(of: layer.mean), plan.values(of: layer.variance))
        output = try plan.buffer(perSample: width)
        inputGradient = try plan.buffer(perSample: width)
    }

    private func normalize(_ x: CUDABuffer, into y: CUDABuffer, centred: Bool, batch: Int) throws {
        try plan.launch("nn_normalize_features", count: batch * width,
                        [.buffer(x), .buffer(mean), .buffer(variance), .buffer(y), .int(Int32(layer.mean.count)),
                         .float(Normalization.epsilon), .int(centred ? 1 : 0), .long(batch * width)])
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try normalize(input, into: output, centred: true, batch: batch)
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try normalize(outputGradient, into: inputGradient, centred: false, batch: batch)
        return inputGradient
    }
}

extension Normalization: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try NormalizationOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
