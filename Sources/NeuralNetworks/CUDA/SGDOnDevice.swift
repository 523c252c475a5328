/// ``SGD`` on the GPU: `nn_sgd_update`, its velocity the first slot.
extension SGD: CUDAOptimizer {
    public static let cudaKernel = "nn_sgd_update"
    public var cudaSettings: [Float] { [currentLearningRate, momentum, weightDecay, nesterov ? 1 : 0] }
}
