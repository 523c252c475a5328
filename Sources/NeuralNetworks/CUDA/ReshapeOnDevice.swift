/// ``Flatten`` and ``Reshape`` on the GPU: a batch-major buffer already holds the new shape, so
/// both passes hand theirs on.
final class ReshapeOnDevice: CUDALayerForm {
    private let needsInputGradient: () -> Bool  // the layer's, read at each pass
    init(needsInputGradient: @escaping () -> Bool) { self.needsInputGradient = needsInputGradient }
    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer { input }
    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        needsInputGradient() ? outputGradient : nil
    }
}

extension Flatten: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        ReshapeOnDevice(needsInputGradient: { [unowned self] in needsInputGradient })
    }
}

extension Reshape: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        ReshapeOnDevice(needsInputGradient: { [unowned self] in needsInputGradient })
    }
}
