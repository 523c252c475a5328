/// ``MeanAbsoluteError`` on the GPU: `nn_mean_absolute_error`, over every output.
extension MeanAbsoluteError: CUDALoss {
    public static let cudaKernel = "nn_mean_absolute_error"
}
