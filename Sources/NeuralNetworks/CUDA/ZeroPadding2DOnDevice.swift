/// ``ZeroPadding2D`` on the GPU: its images moved down and right by the top and left margins.
extension ZeroPadding2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ImageShiftOnDevice(plan: plan, from: (inputShape[0], inputShape[1]), to: outputSize,
                               channels: inputShape.count == 3 ? inputShape[2] : 1, down: padding.top, right: padding.left,
                               needsInputGradient: { [unowned self] in needsInputGradient })
    }
}
