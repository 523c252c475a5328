import Foundation

/// ``Adam`` (and AdamW) on the GPU: `nn_adam_update`, with the bias corrections of the next
/// update worked out here as the CPU's ``Adam/update(_:threads:)`` does.
extension Adam: CUDAOptimizer {
    public static let cudaKernel = "nn_adam_update"
    public var cudaSettings: [Float] {
        let lr = currentLearningRate, t = Double(iterations + 1)
        let correction1 = Float(1 - Foundation.pow(Double(beta1), t)), correction2 = Float(1 - Foundation.pow(Double(beta2), t))
        return [lr / correction1, correction2.squareRoot(), beta1, beta2, epsilon,
                decoupledWeightDecay ? 0 : weightDecay, decoupledWeightDecay ? 1 - lr * weightDecay : 1]
    }
}
