/// ``Cropping2D`` on the GPU: its images moved up and left by the top and left margins.
extension Cropping2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ImageShiftOnDevice(plan: plan, move: move, needsInputGradient: { [unowned self] in needsInputGradient })
    }
}
