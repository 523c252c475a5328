/// ``ZeroPadding2D`` on the GPU: its images moved down and right by the top and left margins.
extension ZeroPadding2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ImageShiftOnDevice(plan: plan, move: move, needsInputGradient: { [unowned self] in needsInputGradient })
    }
}
