/// ``MaxPooling2D`` on the GPU: one thread per output value finds its window's largest input
/// (the first of equals, padding left out) and keeps where it was (`nn_max_pool`); backward, one
/// thread per input value gathers the gradients of the windows it was largest in.
final class MaxPooling2DOnDevice: CUDALayerForm {
    private let layer: MaxPooling2D
    private let plan: CUDAPlan
    private let geometry: ConvolutionGeometry, deviceGeometry: CUDABuffer
    private let output: CUDABuffer, largest: CUDABuffer, inputGradient: CUDABuffer
    private var outputValues: Int { geometry.outputPositions * geometry.channels }

    init(_ layer: MaxPooling2D, inputShape: [Int], plan: CUDAPlan) throws {
        geometry = try ConvolutionGeometry(input: inputShape, window: layer.poolSize, strides: layer.strides,
                                           padding: layer.padding, layer: layer.name)
        (self.layer, self.plan) = (layer, plan)
        deviceGeometry = try plan.deviceCopy(of: geometry)
        output = try plan.buffer(perSample: geometry.outputPositions * geometry.channels)
        largest = try plan.buffer(perSample: geometry.outputPositions * geometry.channels)  // ints
        inputGradient = try plan.buffer(perSample: geometry.inputSize)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.launch("nn_max_pool", count: batch * outputValues,
                        [.buffer(input), .buffer(output), .buffer(largest), .buffer(deviceGeometry), .int(Int32(batch))])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_max_pool_backward", count: batch * geometry.inputSize,
                        [.buffer(outputGradient), .buffer(largest), .buffer(inputGradient), .buffer(deviceGeometry),
                         .int(Int32(batch))])
        return inputGradient
    }
}

extension MaxPooling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try MaxPooling2DOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
