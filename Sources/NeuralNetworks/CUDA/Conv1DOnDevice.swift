/// ``Conv1D`` on the GPU: its ``Conv2D`` on one-row images (`[steps, channels]` is `[1, steps,
/// channels]` in memory, and so is the output), as on the CPU.
extension Conv1D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try Conv2DOnDevice(convolution, inputShape: [1] + inputShape, plan: plan)
    }
}
