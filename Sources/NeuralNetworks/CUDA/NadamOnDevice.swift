/// ``Nadam`` on the GPU: `nn_nadam_update`, with the next update's factors worked out here from
/// the momentum schedule as the CPU's ``Nadam/update(_:threads:)`` does.
extension Nadam: CUDAOptimizer {
    public static let cudaKernel = "nn_nadam_update"
    public var cudaSettings: [Float] {
        let (a, b, root) = factors
        return [a, b, root, beta1, beta2, epsilon, weightDecay]
    }
}
