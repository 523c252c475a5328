/// ``BinaryCrossEntropy`` on the GPU: `nn_binary_cross_entropy`, sigmoid cross-entropy from the
/// logits, or the clipped cross-entropy of other outputs.
extension BinaryCrossEntropy: CUDALoss {
    public static let cudaKernel = "nn_binary_cross_entropy"
}
