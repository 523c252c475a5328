/// ``UpSampling1D`` on the GPU: its ``UpSampling2D`` on one-row images, as on the CPU.
extension UpSampling1D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try UpSampling2DOnDevice(sampling, inputShape: [1] + inputShape, plan: plan)
    }
}
