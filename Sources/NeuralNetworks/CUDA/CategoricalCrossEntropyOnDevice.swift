/// ``CategoricalCrossEntropy`` on the GPU: `nn_categorical_cross_entropy`, softmax cross-entropy
/// from the logits, or the clipped cross-entropy of other outputs; its label smoothing in the settings.
extension CategoricalCrossEntropy: CUDALoss {
    public static let cudaKernel = "nn_categorical_cross_entropy"
    public var cudaSettings: [Float] { [labelSmoothing] }
    public static var checkedVariants: [Self] { [CategoricalCrossEntropy(labelSmoothing: 0.1)] }
}
