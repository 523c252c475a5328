/// ``LSTM`` on the GPU, the CPU layer's passes step for step (see its documentation), one kernel
/// per step's element-wise half and one cuBLAS product per step:
/// - forward: the input gathered time-major into rows [x_t | h_{t−1} | 1] (processing order), then
///   per step gates = rows · [kernel; recurrentKernel; bias] and the cell kernel, which writes h
///   into the next step's rows;
/// - backward: per step from the last, the cell's backward kernel and dh = dz · recurrentKernelᵀ;
///   then one product over all steps for the three parameter gradients, and one for the input's.
/// In ``Precision/bfloat16`` every product but the input gradient's runs on bf16 tensor cores, as
/// the CPU layer's do on AVX512-BF16.
/// Batch normalisation inside and per-sample lengths have no device form (nil: the model then
/// runs layer by layer).
final class LSTMOnDevice: CUDARecurrentForm {
    private let layer: LSTM
    private let plan: CUDAPlan
    private let steps: Int, features: Int, gate: Int32, activation: Int32
    private let precision: Precision  // the layer's when the form was made (a plan's recordings keep it)
    private let weights: CUDABuffer, weightGradients: CUDABuffer
    private let stepInputs: CUDABuffer, gates: CUDABuffer, cells: CUDABuffer, cellActivations: CUDABuffer
    private let hiddenGradient: CUDABuffer, cellGradient: CUDABuffer, output: CUDABuffer
    private let timeMajorInputGradient: CUDABuffer
    let inputGradient: CUDABuffer
    /// The stream its work goes to (a bidirectional layer runs its second direction on the second).
    var lane = CUDALane.first
    var units: Int { layer.units }

    init?(_ layer: LSTM, inputShape: [Int], plan: CUDAPlan) throws {
        guard layer.batchNormalization?.enabled == nil, let gate = layer.recurrentActivation.vectorFunction,
              let activation = layer.activation.vectorFunction, inputShape.count == 2 else { return nil }
        (self.layer, self.plan, self.gate, self.activation) = (layer, plan, gate, activation)
        (steps, features, precision) = (inputShape[0], inputShape[1], layer.precision)
        let units = layer.units, width = features + units + 1, gateWidth = 4 * units
        weights = plan.values(of: layer.kernel, layer.recurrentKernel, layer.bias)
        weightGradients = plan.gradients(of: layer.kernel, layer.recurrentKernel, layer.bias)
        stepInputs = try plan.buffer(perSample: (steps + 1) * width)
        gates = try plan.buffer(perSample: steps * gateWidth)
        cells = try plan.buffer(perSample: (steps + 1) * units)
        cellActivations = try plan.buffer(perSample: steps * units)
        hiddenGradient = try plan.buffer(perSample: units)
        cellGradient = try plan.buffer(perSample: units)
        output = try plan.buffer(perSample: (layer.returnSequences ? steps : 1) * units)
        timeMajorInputGradient = try plan.buffer(perSample: steps * features)
        inputGradient = try plan.buffer(perSample: steps * features)
    }

    private func launchStep(_ name: String, _ arguments: [CUDADevice.Argument], batch: Int) throws {
        try plan.launch(name, count: batch * layer.units,
                        arguments + [.int(Int32(batch)), .int(Int32(layer.units)), .int(gate), .int(activation)], on: lane)
    }

    func forward(_ input: CUDABuffer, batch b: Int) throws -> CUDABuffer {
        let u = layer.units, width = features + u + 1, gw = 4 * u
        try plan.launch("nn_lstm_gather_inputs", count: steps * b * width,
                        [.buffer(input), .buffer(stepInputs), .int(Int32(b)), .int(Int32(steps)), .int(Int32(features)),
                         .int(Int32(u)), .int(layer.goBackwards ? 1 : 0)], on: lane)
        try cells.fill(0, count: b * u, on: plan.stream(lane))
        for s in 0..<steps {
            let z = gates.view(offset: s * b * gw, count: b * gw)
            try plan.blas(on: lane).multiply(m: b, n: gw, k: width, a: stepInputs.view(offset: s * b * width, count: b * width),
                                             lda: width, b: weights, ldb: gw, beta: 0, c: z, ldc: gw,
                                             precision: precision)
            try launchStep("nn_lstm_step_forward",
                           [.buffer(z), .buffer(cells.view(offset: s * b * u, count: b * u)),
                            .buffer(cells.view(offset: (s + 1) * b * u, count: b * u)),
                            .buffer(cellActivations.view(offset: s * b * u, count: b * u)),
                            .buffer(stepInputs.view(offset: (s + 1) * b * width + features, count: b * width - features)),
                            .int(Int32(width))], batch: b)
        }
        try plan.launch("nn_lstm_outputs", count: b * (layer.returnSequences ? steps : 1) * u,
                        [.buffer(stepInputs), .buffer(output), .int(Int32(b)), .int(Int32(steps)), .int(Int32(features)),
                         .int(Int32(u)), .int(layer.returnSequences ? 1 : 0)], on: lane)
        return output
    }

    /// Backward, with the input gradient written into `dx` (or added to it: a second direction);
    /// whether there was one to write.
    func backward(_ dy: CUDABuffer, batch b: Int, into dx: CUDABuffer, accumulate: Bool) throws -> Bool {
        let u = layer.units, width = features + u + 1, gw = 4 * u
        try hiddenGradient.fill(0, count: b * u, on: plan.stream(lane))
        try cellGradient.fill(0, count: b * u, on: plan.stream(lane))
        let recurrentKernel = weights.view(offset: features * gw, count: u * gw)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            if layer.returnSequences {
                try plan.launch("nn_add_step_gradient", count: b * u,
                                [.buffer(dy), .buffer(hiddenGradient), .int(Int32(b)), .int(Int32(steps)), .int(Int32(u)),
                                 .int(Int32(s))], on: lane)
            } else if s == steps - 1 {
                try hiddenGradient.copy(from: dy, count: b * u, on: plan.stream(lane))
            }
            let dz = gates.view(offset: s * b * gw, count: b * gw)
            try launchStep("nn_lstm_step_backward",
                           [.buffer(dz), .buffer(cells.view(offset: s * b * u, count: b * u)),
                            .buffer(cellActivations.view(offset: s * b * u, count: b * u)), .buffer(hiddenGradient),
                            .buffer(cellGradient)], batch: b)
            if s > 0 {  // dh_{s−1} = dz_s · recurrentKernelᵀ
                try plan.blas(on: lane).multiply(transposeB: true, m: b, n: u, k: gw, a: dz, lda: gw, b: recurrentKernel,
                                                 ldb: gw, beta: 0, c: hiddenGradient, ldc: u, precision: precision)
            }
        }
        // [x | h | 1]ᵀ · dz over all steps: the gradients of [kernel; recurrentKernel; bias].
        try plan.blas(on: lane).multiply(transposeA: true, m: width, n: gw, k: steps * b, a: stepInputs, lda: width, b: gates,
                                         ldb: gw, beta: 1, c: weightGradients, ldc: gw, precision: precision)
        guard layer.needsInputGradient else { return false }
        // The kernel is the first `features` rows of [kernel; recurrentKernel; bias].
        try plan.recurrentInputGradient(gates, kernel: weights, gateWidth: gw, steps: steps, batch: b, features: features,
                                        reversed: layer.goBackwards, workspace: timeMajorInputGradient, into: dx,
                                        accumulate: accumulate, on: lane)
        return true
    }
}

extension LSTM: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try LSTMOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
