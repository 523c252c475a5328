/// ``AveragePooling2D`` on the GPU: one thread per output value averages its window's inputs
/// inside the image (`nn_average_pool`); backward, one thread per input value gathers its share of
/// the gradients of the windows it is in.
final class AveragePooling2DOnDevice: CUDALayerForm {
    private let layer: AveragePooling2D
    private let plan: CUDAPlan
    private let geometry: ConvolutionGeometry, deviceGeometry: CUDABuffer
    private let output: CUDABuffer, inputGradient: CUDABuffer
    private var outputValues: Int { geometry.outputPositions * geometry.channels }

    init(_ layer: AveragePooling2D, inputShape: [Int], plan: CUDAPlan) throws {
        geometry = try ConvolutionGeometry(input: inputShape, window: layer.poolSize, strides: layer.strides,
                                           padding: layer.padding, layer: layer.name)
        (self.layer, self.plan) = (layer, plan)
        deviceGeometry = try plan.deviceCopy(of: geometry)
        output = try plan.buffer(perSample: geometry.outputPositions * geometry.channels)
        inputGradient = try plan.buffer(perSample: geometry.inputSize)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.launch("nn_average_pool", count: batch * outputValues,
                        [.buffer(input), .buffer(output), .buffer(deviceGeometry), .int(Int32(batch))])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_average_pool_backward", count: batch * geometry.inputSize,
                        [.buffer(outputGradient), .buffer(inputGradient), .buffer(deviceGeometry), .int(Int32(batch))])
        return inputGradient
    }
}

extension AveragePooling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try AveragePooling2DOnDevice(self, inputShape: inputShape, plan: plan)
    }
}

