/// ``Cropping1D`` on the GPU: its ``Cropping2D`` on one-row images, as on the CPU.
extension Cropping1D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try images.cudaForm(inputShape: [1] + inputShape, plan: plan)
    }
}
