/// ``RMSprop`` on the GPU: `nn_rmsprop_update`, with its square average and momentum buffer.
extension RMSprop: CUDAOptimizer {
    public static let cudaKernel = "nn_rmsprop_update"
    public var cudaSettings: [Float] { [currentLearningRate, rho, epsilon, momentum, weightDecay] }
}
