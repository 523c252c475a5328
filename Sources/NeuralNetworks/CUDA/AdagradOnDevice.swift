/// ``Adagrad`` on the GPU: `nn_adagrad_update`, whose sums start from the initial accumulator on
/// the first update (as the CPU's fills them then).
extension Adagrad: CUDAOptimizer {
    public static let cudaKernel = "nn_adagrad_update"
    public var cudaSettings: [Float] { [currentLearningRate, epsilon, weightDecay, iterations == 0 ? initialAccumulator : 0] }
}
