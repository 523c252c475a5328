/// ``GRU`` (reset after: Keras' default, PyTorch's nn.GRU) on the GPU, the CPU layer's passes step
/// for step (see its documentation):
/// - forward: the input gathered time-major (processing order), its projection for all steps in
///   one product (after the bias rows); per step, h_{t−1}·U + b′ (one product after the b′ rows)
///   and the cell kernel, which writes h_t;
/// - backward: per step from the last, the cell's backward kernel and dh_{t−1} += d(h·U) · Uᵀ;
///   then one product each for the kernel, recurrent-kernel and input gradients, and the bias
///   sums.
/// The original convention (reset before), batch normalisation inside and per-sample lengths
/// have no device form (nil: the model then runs layer by layer).
final class GRUOnDevice: CUDARecurrentForm {
    private let layer: GRU
    private let plan: CUDAPlan
    private let steps: Int, features: Int, gate: Int32, activation: Int32
    private let kernel: CUDABuffer, recurrentKernel: CUDABuffer, bias: CUDABuffer, recurrentBias: CUDABuffer
    private let kernelGradient: CUDABuffer, recurrentKernelGradient: CUDABuffer
    private let biasGradient: CUDABuffer, recurrentBiasGradient: CUDABuffer
    private let inputs: CUDABuffer, gates: CUDABuffer, hidden: CUDABuffer, recurrent: CUDABuffer
    private let carried: CUDABuffer, stepGradient: CUDABuffer, output: CUDABuffer
    private let timeMajorInputGradient: CUDABuffer
    let inputGradient: CUDABuffer
    var lane = CUDALane.first
    var units: Int { layer.units }

    init?(_ layer: GRU, inputShape: [Int], plan: CUDAPlan) throws {
        guard layer.resetAfter, layer.batchNormalization?.enabled == nil, let recurrentBias = layer.recurrentBias,
              let gate = layer.recurrentActivation.vectorFunction, let activation = layer.activation.vectorFunction,
              inputShape.count == 2 else { return nil }
        (self.layer, self.plan, self.gate, self.activation) = (layer, plan, gate, activation)
        (steps, features) = (inputShape[0], inputShape[1])
        let units = layer.units, width = 3 * units
        (kernel, kernelGradient) = (plan.values(of: layer.kernel), plan.gradients(of: layer.kernel))
        (self.recurrentKernel, recurrentKernelGradient) = (plan.values(of: layer.recurrentKernel),
                                                           plan.gradients(of: layer.recurrentKernel))
        (bias, biasGradient) = (plan.values(of: layer.bias), plan.gradients(of: layer.bias))
        (self.recurrentBias, recurrentBiasGradient) = (plan.values(of: recurrentBias), plan.gradients(of: recurrentBias))
        gates = try plan.buffer(perSample: steps * width)
        hidden = try plan.buffer(perSample: (steps + 1) * units)
        recurrent = try plan.buffer(perSample: steps * width)
        (inputs, carried, stepGradient, output, timeMajorInputGradient, inputGradient) =
            try plan.recurrentBuffers(steps: steps, features: features, units: units, returnSequences: layer.returnSequences)
    }

    private var stream: OpaquePointer { plan.stream(lane) }

    private func launchStep(_ name: String, _ arguments: [CUDADevice.Argument], batch: Int) throws {
        try plan.launch(name, count: batch * units,
                        arguments + [.int(Int32(batch)), .int(Int32(units)), .int(gate), .int(activation)], on: lane)
    }

    func forward(_ input: CUDABuffer, batch b: Int) throws -> CUDABuffer {
        let u = units, width = 3 * u
        try plan.inputProjection(input, timeMajor: inputs, kernel: kernel, bias: bias, into: gates, width: width,
                                 steps: steps, batch: b, features: features, reversed: layer.goBackwards, on: lane)
        try hidden.fill(0, count: b * u, on: stream)
        for s in 0..<steps {
            let q = recurrent.view(offset: s * b * width, count: b * width)
            let previous = hidden.view(offset: s * b * u, count: b * u)
            try plan.launch("nn_fill_rows", count: b * width,
                            [.buffer(q), .buffer(recurrentBias), .int(Int32(b)), .int(Int32(width))], on: lane)
            if s > 0 {  // h_{t−1} · U + b′ (h_{−1} = 0)
                try plan.blas(on: lane).multiply(m: b, n: width, k: u, a: previous, lda: u, b: recurrentKernel, ldb: width,
                                                 beta: 1, c: q, ldc: width)
            }
            try launchStep("nn_gru_step_forward",
                           [.buffer(gates.view(offset: s * b * width, count: b * width)), .buffer(q), .buffer(previous),
                            .buffer(hidden.view(offset: (s + 1) * b * u, count: b * u))], batch: b)
        }
        try plan.recurrentOutputs(hidden.view(offset: b * u, count: steps * b * u), into: output, steps: steps, batch: b,
                                  units: u, returnSequences: layer.returnSequences, on: lane)
        return output
    }

    func backward(_ dy: CUDABuffer, batch b: Int, into dx: CUDABuffer, accumulate: Bool) throws -> Bool {
        let u = units, width = 3 * u, rows = steps * b
        try carried.fill(0, count: b * u, on: stream)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            try plan.stepGradient(stepGradient, carried: carried, outputGradient: dy, step: s, steps: steps, batch: b,
                                  units: u, returnSequences: layer.returnSequences, on: lane)
            let q = recurrent.view(offset: s * b * width, count: b * width)
            try launchStep("nn_gru_step_backward",
                           [.buffer(gates.view(offset: s * b * width, count: b * width)), .buffer(q),
                            .buffer(hidden.view(offset: s * b * u, count: b * u)), .buffer(stepGradient), .buffer(carried)],
                           batch: b)
            if s > 0 {  // dh_{t−1} += d(h_{t−1}·U) · Uᵀ
                try plan.blas(on: lane).multiply(transposeB: true, m: b, n: u, k: width, a: q, lda: width, b: recurrentKernel,
                                                 ldb: width, beta: 1, c: carried, ldc: u)
            }
        }
        let blas = plan.blas(on: lane)
        try blas.multiply(transposeA: true, m: features, n: width, k: rows, a: inputs, lda: features, b: gates, ldb: width,
                          beta: 1, c: kernelGradient, ldc: width)
        try plan.addColumnSums(of: gates, rows: rows, width: width, into: biasGradient, on: lane)
        // recurrentKernel += h_{t−1}ᵀ · d(h_{t−1}·U), h_{−1} = 0 first; b′ += Σ d(h_{t−1}·U).
        try blas.multiply(transposeA: true, m: u, n: width, k: rows, a: hidden, lda: u, b: recurrent, ldb: width, beta: 1,
                          c: recurrentKernelGradient, ldc: width)
        try plan.addColumnSums(of: recurrent, rows: rows, width: width, into: recurrentBiasGradient, on: lane)
        guard layer.needsInputGradient else { return false }
        try plan.recurrentInputGradient(gates, kernel: kernel, gateWidth: width, steps: steps, batch: b, features: features,
                                        reversed: layer.goBackwards, workspace: timeMajorInputGradient, into: dx,
                                        accumulate: accumulate, on: lane)
        return true
    }
}

extension GRU: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try GRUOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
