/// ``GRU`` on the GPU, the CPU layer's passes step for step (see its documentation):
/// - forward: the input gathered time-major (processing order), its projection for all steps in
///   one product (after the bias rows); per step, reset after (Keras' default, PyTorch's nn.GRU),
///   h_{t−1}·U + b′ (one product after the b′ rows) and the cell kernel, which writes h_t; reset
///   before (the original convention), h_{t−1}·U_zr added to z's and r's, the gates' kernel,
///   (r ⊙ h_{t−1})·U_h added to n's, and the candidate's kernel;
/// - backward: per step from the last, the cell's backward kernels and products back through
///   the recurrent kernel into dh_{t−1}; then one product each for the kernel, recurrent-kernel and
///   input gradients, and the bias sums.
/// Batch normalisation inside and per-sample lengths have no device form (nil: the model then
/// runs layer by layer).
final class GRUOnDevice: CUDARecurrentForm {
    private let layer: GRU
    private let plan: CUDAPlan
    private let steps: Int, features: Int, gate: Int32, activation: Int32
    private let kernel: CUDABuffer, recurrentKernel: CUDABuffer, bias: CUDABuffer
    private let kernelGradient: CUDABuffer, recurrentKernelGradient: CUDABuffer, biasGradient: CUDABuffer
    private let inputs: CUDABuffer, gates: CUDABuffer, hidden: CUDABuffer
    /// Reset after: the recurrent bias b′ and its gradient, and h_{t−1}·U + b′ per step (then its
    /// gradient). Reset before: r ⊙ h_{t−1} per step, and the gradient of one step's.
    private let recurrentBias: CUDABuffer?, recurrentBiasGradient: CUDABuffer?, recurrent: CUDABuffer?
    private let resetHidden: CUDABuffer?, resetGradient: CUDABuffer?
    private let carried: CUDABuffer, stepGradient: CUDABuffer, output: CUDABuffer
    private let timeMajorInputGradient: CUDABuffer
    let inputGradient: CUDABuffer
    var lane = CUDALane.first
    var units: Int { layer.units }

    init?(_ layer: GRU, inputShape: [Int], plan: CUDAPlan) throws {
        guard layer.batchNormalization?.enabled == nil, layer.resetAfter == (layer.recurrentBias != nil),
              let gate = layer.recurrentActivation.vectorFunction, let activation = layer.activation.vectorFunction,
              inputShape.count == 2 else { return nil }
        (self.layer, self.plan, self.gate, self.activation) = (layer, plan, gate, activation)
        (steps, features) = (inputShape[0], inputShape[1])
        let units = layer.units, width = 3 * units
        (kernel, kernelGradient) = (plan.values(of: layer.kernel), plan.gradients(of: layer.kernel))
        (self.recurrentKernel, recurrentKernelGradient) = (plan.values(of: layer.recurrentKernel),
                                                           plan.gradients(of: layer.recurrentKernel))
        (bias, biasGradient) = (plan.values(of: layer.bias), plan.gradients(of: layer.bias))
        recurrentBias = layer.recurrentBias.map { plan.values(of: $0) }
        recurrentBiasGradient = layer.recurrentBias.map { plan.gradients(of: $0) }
        gates = try plan.buffer(perSample: steps * width)
        hidden = try plan.buffer(perSample: (steps + 1) * units)
        recurrent = layer.resetAfter ? try plan.buffer(perSample: steps * width) : nil
        resetHidden = layer.resetAfter ? nil : try plan.buffer(perSample: steps * units)
        resetGradient = layer.resetAfter ? nil : try plan.buffer(perSample: units)
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
        let blas = plan.blas(on: lane)
        for s in 0..<steps {
            let g = gates.view(offset: s * b * width, count: b * width)
            let previous = hidden.view(offset: s * b * u, count: b * u), next = hidden.view(offset: (s + 1) * b * u, count: b * u)
            if let recurrent, let recurrentBias {
                let q = recurrent.view(offset: s * b * width, count: b * width)
                try plan.launch("nn_fill_rows", count: b * width,
                                [.buffer(q), .buffer(recurrentBias), .int(Int32(b)), .int(Int32(width))], on: lane)
                if s > 0 {  // h_{t−1} · U + b′ (h_{−1} = 0)
                    try blas.multiply(m: b, n: width, k: u, a: previous, lda: u, b: recurrentKernel, ldb: width, beta: 1, c: q,
                                      ldc: width)
                }
                try launchStep("nn_gru_step_forward", [.buffer(g), .buffer(q), .buffer(previous), .buffer(next)], batch: b)
            } else if let resetHidden {
                let reset = resetHidden.view(offset: s * b * u, count: b * u)
                if s > 0 {  // z's and r's pre-activations += h_{t−1} · U_zr
                    try blas.multiply(m: b, n: 2 * u, k: u, a: previous, lda: u, b: recurrentKernel, ldb: width, beta: 1, c: g,
                                      ldc: width)
                }
                try launchStep("nn_gru_gates_original", [.buffer(g), .buffer(previous), .buffer(reset)], batch: b)
                // n's pre-activation += (r ⊙ h_{t−1}) · U_h
                try blas.multiply(m: b, n: u, k: u, a: reset, lda: u, b: candidateColumns(of: recurrentKernel), ldb: width,
                                  beta: 1, c: candidateColumns(of: g), ldc: width)
                try launchStep("nn_gru_candidate_original", [.buffer(g), .buffer(previous), .buffer(next)], batch: b)
            }
        }
        try plan.recurrentOutputs(hidden.view(offset: b * u, count: steps * b * u), into: output, steps: steps, batch: b,
                                  units: u, returnSequences: layer.returnSequences, on: lane)
        return output
    }

    func backward(_ dy: CUDABuffer, batch b: Int, into dx: CUDABuffer, accumulate: Bool) throws -> Bool {
        let u = units, width = 3 * u, rows = steps * b
        let blas = plan.blas(on: lane)
        try carried.fill(0, count: b * u, on: stream)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            try plan.stepGradient(stepGradient, carried: carried, outputGradient: dy, step: s, steps: steps, batch: b,
                                  units: u, returnSequences: layer.returnSequences, on: lane)
            let g = gates.view(offset: s * b * width, count: b * width), previous = hidden.view(offset: s * b * u, count: b * u)
            if let recurrent {
                let q = recurrent.view(offset: s * b * width, count: b * width)
                try launchStep("nn_gru_step_backward", [.buffer(g), .buffer(q), .buffer(previous), .buffer(stepGradient),
                                                        .buffer(carried)], batch: b)
                if s > 0 {  // dh_{t−1} += d(h_{t−1}·U) · Uᵀ
                    try blas.multiply(transposeB: true, m: b, n: u, k: width, a: q, lda: width, b: recurrentKernel, ldb: width,
                                      beta: 1, c: carried, ldc: u)
                }
            } else if let resetGradient {
                try launchStep("nn_gru_candidate_backward_original",
                               [.buffer(g), .buffer(previous), .buffer(stepGradient), .buffer(carried)], batch: b)
                // d(r ⊙ h_{t−1}) = dn_pre · U_hᵀ
                try blas.multiply(transposeB: true, m: b, n: u, k: u, a: candidateColumns(of: g), lda: width,
                                  b: candidateColumns(of: recurrentKernel), ldb: width, beta: 0, c: resetGradient, ldc: u)
                try launchStep("nn_gru_gates_backward_original",
                               [.buffer(g), .buffer(previous), .buffer(resetGradient), .buffer(carried)], batch: b)
                if s > 0 {  // dh_{t−1} += (dz_pre, dr_pre) · U_zrᵀ
                    try blas.multiply(transposeB: true, m: b, n: u, k: 2 * u, a: g, lda: width, b: recurrentKernel, ldb: width,
                                      beta: 1, c: carried, ldc: u)
                }
            }
        }
        try blas.multiply(transposeA: true, m: features, n: width, k: rows, a: inputs, lda: features, b: gates, ldb: width,
                          beta: 1, c: kernelGradient, ldc: width)
        try plan.addColumnSums(of: gates, rows: rows, width: width, into: biasGradient, on: lane)
        if let recurrent, let recurrentBiasGradient {
            // recurrentKernel += h_{t−1}ᵀ · d(h_{t−1}·U), h_{−1} = 0 first; b′ += Σ d(h_{t−1}·U).
            try blas.multiply(transposeA: true, m: u, n: width, k: rows, a: hidden, lda: u, b: recurrent, ldb: width, beta: 1,
                              c: recurrentKernelGradient, ldc: width)
            try plan.addColumnSums(of: recurrent, rows: rows, width: width, into: recurrentBiasGradient, on: lane)
        } else if let resetHidden {
            // U_zr += h_{t−1}ᵀ · (dz_pre, dr_pre); U_h += (r ⊙ h_{t−1})ᵀ · dn_pre.
            try blas.multiply(transposeA: true, m: u, n: 2 * u, k: rows, a: hidden, lda: u, b: gates, ldb: width, beta: 1,
                              c: recurrentKernelGradient, ldc: width)
            try blas.multiply(transposeA: true, m: u, n: u, k: rows, a: resetHidden, lda: u, b: candidateColumns(of: gates),
                              ldb: width, beta: 1, c: candidateColumns(of: recurrentKernelGradient), ldc: width)
        }
        guard layer.needsInputGradient else { return false }
        try plan.recurrentInputGradient(gates, kernel: kernel, gateWidth: width, steps: steps, batch: b, features: features,
                                        reversed: layer.goBackwards, workspace: timeMajorInputGradient, into: dx,
                                        accumulate: accumulate, on: lane)
        return true
    }
}

extension GRUOnDevice {
    /// The candidate's columns of rows 3·units wide (its third of each row): a view from the
    /// first row's candidate part, read and written with the rows' stride.
    private func candidateColumns(of matrix: CUDABuffer) -> CUDABuffer {
        matrix.view(offset: 2 * units, count: matrix.count - 2 * units)
    }
}

extension GRU: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try GRUOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
