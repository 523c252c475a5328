/// ``AveragePooling2D`` on the GPU, and ``GlobalAveragePooling2D`` as one window over the whole
/// image: one thread per output value averages its window's inputs inside the image
/// (`nn_average_pool`); backward, one thread per input value gathers its share of the gradients
/// of the windows it is in.
final class AveragePoolingOnDevice: CUDALayerForm {
    private let plan: CUDAPlan
    private let needsInputGradient: () -> Bool  // the layer's, read at each pass
    private let geometry: ConvolutionGeometry, deviceGeometry: CUDABuffer
    private let output: CUDABuffer, inputGradient: CUDABuffer
    private var outputValues: Int { geometry.outputPositions * geometry.channels }

    init(_ geometry: ConvolutionGeometry, needsInputGradient: @escaping () -> Bool, plan: CUDAPlan) throws {
        (self.geometry, self.needsInputGradient, self.plan) = (geometry, needsInputGradient, plan)
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
        guard needsInputGradient() else { return nil }
        try plan.launch("nn_average_pool_backward", count: batch * geometry.inputSize,
                        [.buffer(outputGradient), .buffer(inputGradient), .buffer(deviceGeometry), .int(Int32(batch))])
        return inputGradient
    }
}

extension AveragePooling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        let geometry = try ConvolutionGeometry(input: inputShape, window: poolSize, strides: strides, padding: padding,
                                               layer: name)
        return try AveragePoolingOnDevice(geometry, needsInputGradient: { [unowned self] in needsInputGradient }, plan: plan)
    }
}

extension GlobalAveragePooling2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        let geometry = try ConvolutionGeometry(input: inputShape, window: Size2D(inputShape[0], inputShape[1]),
                                               strides: Size2D(1), padding: .valid, layer: name)
        return try AveragePoolingOnDevice(geometry, needsInputGradient: { [unowned self] in needsInputGradient }, plan: plan)
    }
}
