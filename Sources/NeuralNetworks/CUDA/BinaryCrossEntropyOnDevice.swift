/// ``BinaryCrossEntropy`` on the GPU: `nn_binary_cross_entropy`, sigmoid cross-entropy from the
/// logits, or the clipped cross-entropy of other outputs; its label smoothing in the settings.
extension BinaryCrossEntropy: CUDALoss {
    public static let cudaKernel = "nn_binary_cross_entropy"
    public var cudaSettings: [Float] { [labelSmoothing] }
    public static var checkedVariants: [Self] { [BinaryCrossEntropy(labelSmoothing: 0.2)] }
}
