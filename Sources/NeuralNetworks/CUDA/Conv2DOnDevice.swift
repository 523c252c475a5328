/// ``Conv2D`` on the GPU, the CPU layer's passes: the batch's windows laid out as patch rows
/// (`nn_im2col`), then the affine pass (``AffineOnDevice``) on them with the kernel seen as
/// `[kh·kw·C, filters]`, which gives the channels-last output; backward, the affine pass's
/// gradients, the patch rows' gradient written over the patches, and each input value's gradient
/// gathered from them (`nn_col2im`).
final class Conv2DOnDevice: CUDALayerForm {
    private let layer: Conv2D
    private let plan: CUDAPlan
    private let affine: AffineOnDevice
    private let geometry: ConvolutionGeometry, deviceGeometry: CUDABuffer
    private let patches: CUDABuffer, inputGradient: CUDABuffer

    /// `inputShape` may have no channel axis.
    init(_ layer: Conv2D, inputShape: [Int], plan: CUDAPlan) throws {
        let geometry = try ConvolutionGeometry(input: inputShape, window: layer.kernelSize, strides: layer.strides,
                                               dilation: layer.dilationRate, padding: layer.padding, layer: layer.name)
        let affine = try AffineOnDevice(layer.name, kernel: layer.kernel, bias: layer.bias, activation: layer.activation,
                                        rowsPerSample: geometry.outputPositions, inputWidth: geometry.patchSize,
                                        units: layer.filters, plan: plan)
        (self.layer, self.plan, self.affine, self.geometry) = (layer, plan, affine, geometry)
        deviceGeometry = try plan.deviceCopy(of: geometry)
        patches = try plan.buffer(perSample: geometry.outputPositions * geometry.patchSize)
        inputGradient = try plan.buffer(perSample: geometry.inputSize)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.launch("nn_im2col", count: batch * geometry.outputPositions * geometry.patchSize,
                        [.buffer(input), .buffer(patches), .buffer(deviceGeometry), .int(Int32(batch))])
        return try affine.forward(patches, batch: batch)
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        // The patch rows' gradient over the patches themselves, once the kernel's gradient has read them.
        try affine.backward(outputGradient, batch: batch, into: layer.needsInputGradient ? patches : nil)
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_col2im", count: batch * geometry.inputSize,
                        [.buffer(patches), .buffer(inputGradient), .buffer(deviceGeometry), .int(Int32(batch))])
        return inputGradient
    }
}

extension Conv2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try Conv2DOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
