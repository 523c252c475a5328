/// ``MeanSquaredError`` on the GPU: `nn_mean_squared_error`, over every output.
extension MeanSquaredError: CUDALoss {
    public static let cudaKernel = "nn_mean_squared_error"
}
