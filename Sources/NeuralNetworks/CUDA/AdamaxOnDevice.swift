/// ``Adamax`` on the GPU: `nn_adamax_update`, with the next update's step size worked out here as
/// the CPU's ``Adamax/update(_:threads:)`` does.
extension Adamax: CUDAOptimizer {
    public static let cudaKernel = "nn_adamax_update"
    public var cudaSettings: [Float] { [stepSize, beta1, beta2, epsilon, weightDecay] }
}
