/// ``Huber`` on the GPU: `nn_huber`, over every output, its delta in the settings.
extension Huber: CUDALoss {
    public static let cudaKernel = "nn_huber"
    public var cudaSettings: [Float] { [delta] }
    public static var checkedVariants: [Self] { [Huber(delta: 0.3)] }
}
