/// ``Cropping2D`` on the GPU: its images moved up and left by the top and left margins.
extension Cropping2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ImageShiftOnDevice(plan: plan, from: (inputShape[0], inputShape[1]), to: outputSize,
                               channels: inputShape.count == 3 ? inputShape[2] : 1, down: -cropping.top,
                               right: -cropping.left, needsInputGradient: { [unowned self] in needsInputGradient })
    }
}
