/// ``ZeroPadding1D`` on the GPU: its ``ZeroPadding2D`` on one-row images, as on the CPU.
extension ZeroPadding1D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try images.cudaForm(inputShape: [1] + inputShape, plan: plan)
    }
}
