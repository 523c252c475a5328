/// ``GlobalMaxPooling2D`` on the GPU: its ``MaxPooling2D`` over the whole image (the output
/// `[1, 1, channels]` is `[channels]` in memory), as on the CPU.
extension GlobalMaxPooling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        guard let pooling else { preconditionFailure("\(name): build the layer first") }
        return try MaxPooling2DOnDevice(pooling, inputShape: inputShape, plan: plan)
    }
}
