/// ``Flatten`` on the GPU: a batch-major buffer is already flat, so both passes hand theirs on.
final class FlattenOnDevice: CUDALayerForm {
    private let layer: Flatten
    init(_ layer: Flatten) { self.layer = layer }
    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer { input }
    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        layer.needsInputGradient ? outputGradient : nil
    }
}

extension Flatten: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? { FlattenOnDevice(self) }
}
