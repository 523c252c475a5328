/// ``GlobalAveragePooling2D`` on the GPU: one thread per sample and channel sums the image's
/// positions and divides (`nn_global_average`), as the CPU layer; backward, each position's
/// gradient is the channel's, divided alike.
final class GlobalAveragePooling2DOnDevice: CUDALayerForm {
    private let layer: GlobalAveragePooling2D
    private let plan: CUDAPlan
    private let positions: Int, channels: Int
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init(_ layer: GlobalAveragePooling2D, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan) = (layer, plan)
        (positions, channels) = (inputShape[0] * inputShape[1], inputShape[2])
        output = try plan.buffer(perSample: channels)
        inputGradient = try plan.buffer(perSample: positions * channels)
    }

    private func arguments(batch: Int) -> [CUDADevice.Argument] {
        [.int(Int32(positions)), .int(Int32(channels)), .int(Int32(batch))]
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.launch("nn_global_average", count: batch * channels, [.buffer(input), .buffer(output)] + arguments(batch: batch))
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_global_average_backward", count: batch * positions * channels,
                        [.buffer(outputGradient), .buffer(inputGradient)] + arguments(batch: batch))
        return inputGradient
    }
}

extension GlobalAveragePooling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try GlobalAveragePooling2DOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
