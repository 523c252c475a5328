/// ``SimpleRNN`` on the GPU, the CPU layer's passes step for step: the input gathered time-major,
/// its projection for all steps in one product (after the bias rows); per step z_t += h_{t−1} · U
/// and h_t = act(z_t). Backward, per step from the last, dz_t = dh_t · act′ (from h_t) and
/// dh_{t−1} = dz_t · Uᵀ; then one product each for the kernel, recurrent-kernel and input
/// gradients, and the bias sums. Activations whose derivative needs their input (gelu, swish),
/// batch normalisation inside and per-sample lengths have no device form.
final class SimpleRNNOnDevice: CUDARecurrentForm {
    private let layer: SimpleRNN
    private let plan: CUDAPlan
    private let steps: Int, features: Int, activation: Int32
    private let kernel: CUDABuffer, recurrentKernel: CUDABuffer, bias: CUDABuffer
    private let kernelGradient: CUDABuffer, recurrentKernelGradient: CUDABuffer, biasGradient: CUDABuffer
    private let inputs: CUDABuffer, preActivations: CUDABuffer, hidden: CUDABuffer
    private let carried: CUDABuffer, stepGradient: CUDABuffer, output: CUDABuffer
    private let timeMajorInputGradient: CUDABuffer
    let inputGradient: CUDABuffer
    var lane = CUDALane.first
    var units: Int { layer.units }

    init?(_ layer: SimpleRNN, inputShape: [Int], plan: CUDAPlan) throws {
        guard layer.batchNormalization?.enabled == nil, let activation = layer.activation.vectorFunction,
              inputShape.count == 2 else { return nil }
        (self.layer, self.plan, self.activation) = (layer, plan, activation)
        (steps, features) = (inputShape[0], inputShape[1])
        let units = layer.units
        (kernel, kernelGradient) = (plan.values(of: layer.kernel), plan.gradients(of: layer.kernel))
        (recurrentKernel, recurrentKernelGradient) = (plan.values(of: layer.recurrentKernel),
                                                      plan.gradients(of: layer.recurrentKernel))
        (bias, biasGradient) = (plan.values(of: layer.bias), plan.gradients(of: layer.bias))
        preActivations = try plan.buffer(perSample: steps * units)
        hidden = try plan.buffer(perSample: steps * units)
        (inputs, carried, stepGradient, output, timeMajorInputGradient, inputGradient) =
            try plan.recurrentBuffers(steps: steps, features: features, units: units, returnSequences: layer.returnSequences)
    }

    private var stream: OpaquePointer { plan.stream(lane) }

    func forward(_ input: CUDABuffer, batch b: Int) throws -> CUDABuffer {
        let u = units
        try plan.inputProjection(input, timeMajor: inputs, kernel: kernel, bias: bias, into: preActivations, width: u,
                                 steps: steps, batch: b, features: features, reversed: layer.goBackwards, on: lane)
        for s in 0..<steps {
            let z = preActivations.view(offset: s * b * u, count: b * u)
            if s > 0 {  // z_t += h_{t−1} · recurrentKernel
                try plan.blas(on: lane).multiply(m: b, n: u, k: u, a: hidden.view(offset: (s - 1) * b * u, count: b * u),
                                                 lda: u, b: recurrentKernel, ldb: u, beta: 1, c: z, ldc: u)
            }
            try plan.launch("nn_apply_activation", count: b * u,
                            [.buffer(z), .buffer(hidden.view(offset: s * b * u, count: b * u)), .int(activation),
                             .long(b * u)], on: lane)
        }
        try plan.recurrentOutputs(hidden, into: output, steps: steps, batch: b, units: u,
                                  returnSequences: layer.returnSequences, on: lane)
        return output
    }

    func backward(_ dy: CUDABuffer, batch b: Int, into dx: CUDABuffer, accumulate: Bool) throws -> Bool {
        let u = units, rows = steps * b
        try carried.fill(0, count: b * u, on: stream)
        for s in stride(from: steps - 1, through: 0, by: -1) {
            try plan.stepGradient(stepGradient, carried: carried, outputGradient: dy, step: s, steps: steps, batch: b,
                                  units: u, returnSequences: layer.returnSequences, on: lane)
            let z = preActivations.view(offset: s * b * u, count: b * u)  // dz_t replaces z_t
            try plan.launch("nn_apply_activation_gradient", count: b * u,
                            [.buffer(hidden.view(offset: s * b * u, count: b * u)), .buffer(stepGradient), .buffer(z),
                             .int(activation), .long(b * u)], on: lane)
            if s > 0 {  // dh_{t−1} = dz_t · recurrentKernelᵀ
                try plan.blas(on: lane).multiply(transposeB: true, m: b, n: u, k: u, a: z, lda: u, b: recurrentKernel, ldb: u,
                                                 beta: 0, c: carried, ldc: u)
            }
        }
        let blas = plan.blas(on: lane)
        try blas.multiply(transposeA: true, m: features, n: u, k: rows, a: inputs, lda: features, b: preActivations, ldb: u,
                          beta: 1, c: kernelGradient, ldc: u)
        if steps > 1 {  // recurrent += h_{t−1}ᵀ · dz_t over the steps after the first
            try blas.multiply(transposeA: true, m: u, n: u, k: rows - b, a: hidden, lda: u,
                              b: preActivations.view(offset: b * u, count: (rows - b) * u), ldb: u, beta: 1,
                              c: recurrentKernelGradient, ldc: u)
        }
        try plan.addColumnSums(of: preActivations, rows: rows, width: u, into: biasGradient, on: lane)
        guard layer.needsInputGradient else { return false }
        try plan.recurrentInputGradient(preActivations, kernel: kernel, gateWidth: u, steps: steps, batch: b,
                                        features: features, reversed: layer.goBackwards, workspace: timeMajorInputGradient,
                                        into: dx, accumulate: accumulate, on: lane)
        return true
    }
}

extension SimpleRNN: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try SimpleRNNOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
