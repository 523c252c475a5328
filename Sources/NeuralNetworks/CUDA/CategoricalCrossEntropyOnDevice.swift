/// ``CategoricalCrossEntropy`` on the GPU: `nn_categorical_cross_entropy`, softmax cross-entropy
/// from the logits, or the clipped cross-entropy of other outputs.
extension CategoricalCrossEntropy: CUDALoss {
    public static let cudaKernel = "nn_categorical_cross_entropy"
}
