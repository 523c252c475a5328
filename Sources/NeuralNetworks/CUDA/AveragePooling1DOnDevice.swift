/// ``AveragePooling1D`` on the GPU: its ``AveragePooling2D`` on one-row images (`[steps, channels]` is
/// `[1, steps, channels]` in memory, and so is the output), as on the CPU.
extension AveragePooling1D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try AveragePooling2DOnDevice(pooling, inputShape: [1] + inputShape, plan: plan)
    }
}
