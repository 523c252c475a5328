/// ``TimeDistributed`` on the GPU: its layer's form with each step as a sample, a batch of
/// batch × steps on a plan for that many (``CUDAPlan/scaled(by:)``), on the same buffers: a
/// sample's steps already lie one after another, as on the CPU.
final class TimeDistributedOnDevice: CUDALayerForm {
    /// The inner layer's form, which takes batch × steps samples.
    let inner: any CUDALayerForm
    let steps: Int

    init(inner: any CUDALayerForm, steps: Int) { (self.inner, self.steps) = (inner, steps) }

    func prepare(batch: Int, context: ForwardContext) throws { try inner.prepare(batch: batch * steps, context: context) }
    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer { try inner.forward(input, batch: batch * steps) }
    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        try inner.backward(outputGradient, batch: batch * steps)
    }
}

extension TimeDistributed: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        guard let inner = try (layer as? any CUDALayer)?.cudaForm(inputShape: Array(inputShape.dropFirst()),
                                                                   plan: plan.scaled(by: inputShape[0])) else { return nil }
        return TimeDistributedOnDevice(inner: inner, steps: inputShape[0])
    }
}
