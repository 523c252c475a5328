/// ``DepthwiseConv2D`` on the GPU: each channel's windows through its own `depthMultiplier`
/// filters (`nn_depthwise_forward`, one thread per output value) after the bias rows, then the
/// activation; backward, the activation's gradient, the kernel's (one thread per weight and
/// sample over its windows, then summed over the batch), the bias's (column sums) and the input's (one thread per input value,
/// gathered from the windows it is in).
final class DepthwiseConv2DOnDevice: CUDALayerForm {
    private let layer: DepthwiseConv2D
    private let plan: CUDAPlan
    private let function: Int32?  // nil: linear
    private let geometry: ConvolutionGeometry, deviceGeometry: CUDABuffer
    private let kernel: CUDABuffer, kernelGradient: CUDABuffer, bias: CUDABuffer?, biasGradient: CUDABuffer?
    private let logits: CUDABuffer, output: CUDABuffer, logitsGradient: CUDABuffer, inputGradient: CUDABuffer
    private let samplesKernelGradients: CUDABuffer  // [batch, kernel]: each sample's part, then summed
    private var lastInput: CUDABuffer?
    private var width: Int { geometry.channels * layer.depthMultiplier }  // output channels

    /// Nil for activations without an element-wise kernel.
    init?(_ layer: DepthwiseConv2D, inputShape: [Int], plan: CUDAPlan) throws {
        guard layer.activation == .linear || layer.activation.vectorFunction != nil else { return nil }
        geometry = try ConvolutionGeometry(input: inputShape, window: layer.kernelSize, strides: layer.strides,
                                           dilation: layer.dilationRate, padding: layer.padding, layer: layer.name)
        (self.layer, self.plan) = (layer, plan)
        function = layer.activation == .linear ? nil : layer.activation.vectorFunction
        deviceGeometry = try plan.deviceCopy(of: geometry)
        (kernel, kernelGradient) = (plan.values(of: layer.kernel), plan.gradients(of: layer.kernel))
        (bias, biasGradient) = (layer.bias.map { plan.values(of: $0) }, layer.bias.map { plan.gradients(of: $0) })
        let outputs = geometry.outputPositions * geometry.channels * layer.depthMultiplier
        (logits, output) = (try plan.buffer(perSample: outputs), try plan.buffer(perSample: outputs))
        logitsGradient = try plan.buffer(perSample: outputs)
        inputGradient = try plan.buffer(perSample: geometry.inputSize)
        samplesKernelGradients = try plan.buffer(perSample: layer.kernel.count)
        try plan.reserveColumnSums(rows: plan.capacity * (layer.bias == nil ? 1 : geometry.outputPositions))
    }

    private func windowArguments(batch: Int) -> [CUDADevice.Argument] {
        [.buffer(deviceGeometry), .int(Int32(batch)), .int(Int32(layer.depthMultiplier))]
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * geometry.outputPositions
        lastInput = input
        if let bias {
            try plan.launch("nn_fill_rows", count: rows * width, [.buffer(logits), .buffer(bias), .int(Int32(rows)), .int(Int32(width))])
        } else {
            try logits.fill(0, count: rows * width, on: plan.stream(.first))
        }
        try plan.launch("nn_depthwise_forward", count: rows * width,
                        [.buffer(input), .buffer(kernel), .buffer(logits)] + windowArguments(batch: batch))
        guard let function else { return logits }
        try plan.activate(function, logits, into: output, count: rows * width)
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        let rows = batch * geometry.outputPositions
        var dz = outputGradient
        if let function {
            try plan.activationGradient(function, output: output, outputGradient, into: logitsGradient, count: rows * width)
            dz = logitsGradient
        }
        try plan.launch("nn_depthwise_kernel_gradient", count: batch * kernel.count,
                        [.buffer(lastInput!), .buffer(dz), .buffer(samplesKernelGradients)] + windowArguments(batch: batch))
        try plan.addColumnSums(of: samplesKernelGradients, rows: batch, width: kernel.count, into: kernelGradient)
        if let biasGradient { try plan.addColumnSums(of: dz, rows: rows, width: width, into: biasGradient) }
        guard layer.needsInputGradient else { return nil }
        try plan.launch("nn_depthwise_input_gradient", count: batch * geometry.inputSize,
                        [.buffer(dz), .buffer(kernel), .buffer(inputGradient)] + windowArguments(batch: batch))
        return inputGradient
    }
}

extension DepthwiseConv2D: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try DepthwiseConv2DOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
