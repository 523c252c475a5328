/// ``UpSampling2D`` on the GPU: `nn_upsample`, one thread per output value, and
/// `nn_upsample_backward`, one thread per input value gathering the gradients that came from it
/// (no atomics: the sums come out in one order, run after run).
final class UpSampling2DOnDevice: CUDALayerForm {
    private let layer: UpSampling2D
    private let plan: CUDAPlan
    private let height: Int, width: Int, channels: Int
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init(_ layer: UpSampling2D, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan) = (layer, plan)
        (height, width, channels) = (inputShape[0], inputShape[1], inputShape.count == 3 ? inputShape[2] : 1)
        output = try plan.buffer(perSample: height * width * channels * layer.size.height * layer.size.width)
        inputGradient = try plan.buffer(perSample: height * width * channels)
    }

    private func arguments(batch: Int) -> [CUDADevice.Argument] {
        [.int(Int32(batch)), .int(Int32(height)), .int(Int32(width)), .int(Int32(channels)), .int(Int32(layer.size.height)),
         .int(Int32(layer.size.width)), .int(layer.interpolation == .bilinear ? 1 : 0)]
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let count = batch * height * width * channels * layer.size.height * layer.size.width
        try plan.launch("nn_upsample", count: count, [.buffer(input), .buffer(output)] + arguments(batch: batch))
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_upsample_backward", count: batch * height * width * channels,
                        [.buffer(outputGradient), .buffer(inputGradient)] + arguments(batch: batch))
        return inputGradient
    }
}

extension UpSampling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try UpSampling2DOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
