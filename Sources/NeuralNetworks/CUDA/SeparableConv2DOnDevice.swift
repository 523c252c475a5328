/// ``SeparableConv2D`` on the GPU: its depthwise convolution's form, then its pointwise (1×1)
/// convolution's, as on the CPU.
extension SeparableConv2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        let depthwiseGeometry = try ConvolutionGeometry(input: inputShape, window: depthwise.kernelSize,
                                                        strides: depthwise.strides, dilation: depthwise.dilationRate,
                                                        padding: depthwise.padding, layer: depthwise.name)
        let between = depthwiseGeometry.outputShape + [depthwiseGeometry.channels * depthwise.depthMultiplier]
        return try CUDAFormSequence([depthwise, pointwise], outputShapes: [between, between.dropLast() + [filters]],
                                    inputShape: inputShape, plan: plan).map(ChainOnDevice.init)
    }
}
