/// A gated recurrent unit over a sequence (Keras `GRU`, PyTorch `nn.GRU`), with explicit forward
/// and backward passes. Inputs are `[batch, steps, features]`. Gates are packed in Keras' order
/// **z, r, h** (update, reset, candidate) along the last axis of `kernel` (features × 3·units),
/// `recurrentKernel` (units × 3·units) and the biases; per step, with σ the recurrent activation
/// (sigmoid) and φ the activation (tanh):
///
///     z = σ(x·W_z + h_{t−1}·U_z + b_z),   r = σ(x·W_r + h_{t−1}·U_r + b_r)
///     resetAfter (Keras' default, PyTorch's nn.GRU):  n = φ(x·W_h + b_h + r ⊙ (h_{t−1}·U_h + b'_h))
///     original (Cho et al. 2014, Keras reset_after=False): n = φ(x·W_h + (r ⊙ h_{t−1})·U_h + b_h)
///     h_t = z ⊙ h_{t−1} + (1 − z) ⊙ n,   h_{−1} = 0
///
/// With `resetAfter` the layer has two biases, `bias` (b, on the input side) and `recurrentBias`
/// (b′, inside the reset), as PyTorch's `bias_ih` and `bias_hh` (Keras keeps them as the two rows
/// of one bias); the original convention has one. Only `resetAfter` runs in PyTorch: its export
/// reorders the gates to PyTorch's r, z, n.
///
/// The input projection of all steps is one product; each step, one product by `recurrentKernel`
/// (two in the original convention: the candidate's waits for the reset gate) and one vector pass.
/// Backward, one product each gives the kernel, recurrent-kernel and input gradients over all
/// steps. Workspace is time-major in processing order; with `goBackwards` the sequence is read
/// from its last step and, as in Keras, `returnSequences` outputs are in processing order. With
/// per-sample lengths (``ForwardContext/sequenceLengths``) padding steps keep the state and output
/// zeros (``StepOrder``).
public final class GRU: RecurrentLayer {
    public static let typeName = "GRU"
    public static let positionalKeys = ["units"]
    public var name = "gru"
    public let units: Int
    public let activation: Activation
    public let recurrentActivation: Activation
    public let returnSequences: Bool
    public let goBackwards: Bool
    public let resetAfter: Bool
    public let kernelInitializer: Initializer
    public let recurrentInitializer: Initializer
    public let biasInitializer: Initializer
    /// Batch normalisation of the input projection per time step when set and enabled (``StepNormalizationSettings``).
    public let batchNormalization: StepNormalizationSettings?
    private var normalization: StepNormalization?

    public private(set) var kernel: Parameter!
    public private(set) var recurrentKernel: Parameter!
    public private(set) var bias: Parameter!
    /// The candidate's recurrent bias inside the reset (b′), with ``resetAfter`` only.
    public private(set) var recurrentBias: Parameter?
    public var needsInputGradient = true
    /// Threads the products and the vector passes may use.
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }
    /// Products run in float32 whatever this says (kept for ``RecurrentLayer``: a bidirectional
    /// model sets it on all its layers).
    public var precision = Precision.float32

    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward
    private var (features, batch, steps) = (0, 0, 0)
    private var order = StepOrder(steps: 0, reversed: false)  // the last forward pass's
    private var padded = PaddedRows()
    private let inputs = FloatBuffer()     // [steps, batch, features], processing order
    private let gates = FloatBuffer()      // [steps, batch, 3·units]: pre-activations, then z, r, n, then their gradients
    private let hidden = FloatBuffer()     // [steps + 1, batch, units]: h_{−1} = 0, then h_t
    private let recurrent = FloatBuffer()  // resetAfter: [steps, batch, 3·units], h_{t−1}·U + b′, then its gradient
    private let resetHidden = FloatBuffer() // original: [steps, batch, units], r ⊙ h_{t−1}
    private let carried = FloatBuffer()    // [batch, units]: dh flowing back from the next step
    private let stepGradient = FloatBuffer() // [batch, units]: dh_t, output and recurrence summed
    private let resetGradient = FloatBuffer() // original: [batch, units], the gradient of r ⊙ h_{t−1}
    private let inputGradient = FloatBuffer() // [steps, batch, features]

    public init(units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                returnSequences: Bool = false, goBackwards: Bool = false, resetAfter: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, batchNormalization: StepNormalizationSettings? = nil) {
        precondition(units > 0, "GRU needs at least one unit")
        self.batchNormalization = batchNormalization
        precondition(activation.derivativeFromOutput && recurrentActivation.derivativeFromOutput
                     && activation != .softmax && recurrentActivation != .softmax,
                     "a GRU keeps activated values only: its activations need derivatives from their outputs")
        (self.units, self.activation, self.recurrentActivation) = (units, activation, recurrentActivation)
        (self.returnSequences, self.goBackwards, self.resetAfter) = (returnSequences, goBackwards, resetAfter)
        (self.kernelInitializer, self.recurrentInitializer, self.biasInitializer) =
            (kernelInitializer, recurrentInitializer, biasInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var units: Int
        public var activation: Activation?
        public var recurrentActivation: Activation?
        public var returnSequences: Bool?
        public var goBackwards: Bool?
        public var resetAfter: Bool?
        public var batchNormalization: StepNormalizationSettings?
        enum CodingKeys: String, CodingKey {
            case units, activation, recurrentActivation = "recurrent_activation"
            case returnSequences = "return_sequences", goBackwards = "go_backwards", resetAfter = "reset_after"
            case batchNormalization = "batch_normalization"
        }
    }

    public var configuration: Configuration {
        Configuration(units: units, activation: activation, recurrentActivation: recurrentActivation,
                      returnSequences: returnSequences, goBackwards: goBackwards, resetAfter: resetAfter,
                      batchNormalization: batchNormalization)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.units > 0 else { throw ShapeError("GRU units must be positive, got \(c.units)") }
        let act = c.activation ?? .tanh, gate = c.recurrentActivation ?? .sigmoid
        for f in [act, gate] where f == .softmax || !f.derivativeFromOutput {
            throw ShapeError("\(f.rawValue) is not a GRU activation (a GRU keeps activated values only)")
        }
        self.init(units: c.units, activation: act, recurrentActivation: gate, returnSequences: c.returnSequences ?? false,
                  goBackwards: c.goBackwards ?? false, resetAfter: c.resetAfter ?? true,
                  batchNormalization: c.batchNormalization)
    }

    public func reversedCopy() -> GRU {
        GRU(units: units, activation: activation, recurrentActivation: recurrentActivation,
            returnSequences: returnSequences, goBackwards: !goBackwards, resetAfter: resetAfter,
            kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer, biasInitializer: biasInitializer,
            batchNormalization: batchNormalization)
    }

    public var parameters: [Parameter] {
        [kernel, recurrentKernel, bias, recurrentBias].compactMap { $0 } + (normalization?.parameters ?? [])
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0, inputShape[1] > 0 else {
            throw ShapeError("\(name): GRU needs inputs of shape [steps, features], got \(inputShape)")
        }
        (steps, features) = (inputShape[0], inputShape[1])
        kernel = try context.parameter("kernel", shape: [features, 3 * units], initializer: kernelInitializer)
        recurrentKernel = try context.parameter("recurrent_kernel", shape: [units, 3 * units], initializer: recurrentInitializer)
        bias = try context.parameter("bias", shape: [3 * units], initializer: biasInitializer)
        recurrentBias = resetAfter
            ? try context.parameter("recurrent_bias", shape: [3 * units], initializer: biasInitializer) : nil
        normalization = try batchNormalization?.enabled.map {
            try StepNormalization(settings: $0, width: 3 * units, steps: steps, context: &context)
        }
        return returnSequences ? [steps, units] : [units]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { 6 * inputShape[0] * (features + units) * units }

    public func workspaceValues(inputShape: [Int], batchSize b: Int) -> Int {
        let rows = inputShape[0] * b
        return rows * (2 * features + 3 * units + units) + (resetAfter ? rows * 3 * units : rows * units) + 4 * b * units
            + (normalization == nil ? 0 : 2 * rows * 3 * units)  // x̂ and the projection's gradient
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(input.shape.count == 3 && input.shape[2] == features, "\(name): input \(input.shape), expected [batch, steps, \(features)]")
        backend = context.backend
        (batch, steps) = (input.shape[0], input.shape[1])
        order = context.stepOrder(batch: batch, steps: steps, reversed: goBackwards, layer: name)
        let rows = steps * batch, width = 3 * units
        inputs.reserve(rows * features)
        gates.reserve(rows * width)
        hidden.reserve(rows * units + batch * units)
        hidden.zero(batch * units)
        if resetAfter { recurrent.reserve(rows * width) } else { resetHidden.reserve(rows * units) }
        input.scalars.withUnsafeBufferPointer { x in
            TimeMajor.gather(x.baseAddress!, into: inputs.pointer, batch: batch, order: order, width: features)
        }
        // The input side of every step at once: x · kernel + bias (the product normalised per step first, with batch normalisation).
        if normalization == nil { backend.fillRows(gates.pointer, rows: rows, width: width, with: bias.value) }
        backend.multiply(MatrixProduct(m: rows, n: width, k: features, a: inputs.pointer, lda: features, b: kernel.value,
                                       ldb: width, beta: normalization == nil ? 1 : 0, c: gates.pointer, ldc: width),
                         threads: threads)
        normalization?.forward(gates.pointer, order: order, batch: batch, training: context.training, adding: bias.value)
        for s in 0..<steps {
            let g = gates.pointer + s * batch * width, previous = hidden.pointer + s * batch * units
            if resetAfter {
                // h_{t−1} · U + b′, kept for the reset gate's gradient.
                let q = recurrent.pointer + s * batch * width
                backend.fillRows(q, rows: batch, width: width, with: recurrentBias!.value)
                if s > 0 {
                    backend.multiply(MatrixProduct(m: batch, n: width, k: units, a: previous, lda: units,
                                                   b: recurrentKernel.value, ldb: width, beta: 1, c: q, ldc: width),
                                     threads: threads)
                }
                forEachRowGroup { range in stepForwardResetAfter(step: s, rows: range) }
            } else {
                if s > 0 {
                    // z, r pre-activations += h_{t−1} · U_zr
                    backend.multiply(MatrixProduct(m: batch, n: 2 * units, k: units, a: previous, lda: units,
                                                   b: recurrentKernel.value, ldb: width, beta: 1, c: g, ldc: width),
                                     threads: threads)
                }
                forEachRowGroup { range in stepGatesOriginal(step: s, rows: range) }
                // The candidate's pre-activation += (r ⊙ h_{t−1}) · U_h
                backend.multiply(MatrixProduct(m: batch, n: units, k: units, a: resetHidden.pointer + s * batch * units,
                                               lda: units, b: recurrentKernel.value + 2 * units, ldb: width, beta: 1,
                                               c: g + 2 * units, ldc: width), threads: threads)
                forEachRowGroup { range in stepCandidateOriginal(step: s, rows: range) }
            }
            PaddedRows.carryState(order: order, step: s, rows: 0..<batch, previous: previous,
                                  next: previous + batch * units, stride: units, width: units)
            if context.shouldStop { break }
        }
        let outputs = hidden.pointer + batch * units
        guard returnSequences else {
            return Tensor(shape: [batch, units], copying: outputs + (steps - 1) * batch * units)
        }
        return Tensor(shape: [batch, steps, units]) { y in
            TimeMajor.scatterOutputs(outputs, into: y, batch: batch, order: order, width: units)
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let rows = steps * batch, width = 3 * units
        carried.reserve(batch * units)
        carried.zero(batch * units)
        stepGradient.reserve(batch * units)
        if !resetAfter { resetGradient.reserve(batch * units) }
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            for s in stride(from: steps - 1, through: 0, by: -1) {
                // dh_t = the output's gradient at this step (every step, or the last) + what h_t fed forward.
                let dh = stepGradient.pointer
                TimeMajor.stepGradient(dh, carried: carried.pointer, outputGradient: dy.baseAddress!, step: s, order: order,
                                       batch: batch, units: units, returnSequences: returnSequences, backend: backend)
                padded.setAside(order: order, step: s, rows: 0..<batch, dh, stride: units, width: units)
                let g = gates.pointer + s * batch * width
                if resetAfter {
                    forEachRowGroup { range in stepBackwardResetAfter(step: s, rows: range) }
                    // dh_{t−1} += d(h_{t−1}·U) · Uᵀ
                    if s > 0 {
                        backend.multiply(MatrixProduct(transposeB: true, m: batch, n: units, k: width,
                                                       a: recurrent.pointer + s * batch * width, lda: width,
                                                       b: recurrentKernel.value, ldb: width, beta: 1, c: carried.pointer,
                                                       ldc: units), threads: threads)
                    }
                } else {
                    forEachRowGroup { range in stepCandidateBackwardOriginal(step: s, rows: range) }
                    // d(r ⊙ h_{t−1}) = dn_pre · U_hᵀ
                    backend.multiply(MatrixProduct(transposeB: true, m: batch, n: units, k: units, a: g + 2 * units,
                                                   lda: width, b: recurrentKernel.value + 2 * units, ldb: width, beta: 0,
                                                   c: resetGradient.pointer, ldc: units), threads: threads)
                    forEachRowGroup { range in stepGatesBackwardOriginal(step: s, rows: range) }
                    // dh_{t−1} += (dz_pre, dr_pre) · U_zrᵀ
                    if s > 0 {
                        backend.multiply(MatrixProduct(transposeB: true, m: batch, n: units, k: 2 * units, a: g,
                                                       lda: width, b: recurrentKernel.value, ldb: width, beta: 1,
                                                       c: carried.pointer, ldc: units), threads: threads)
                    }
                }
                padded.passOn(into: carried.pointer, stride: units, width: units)
            }
        }
        let dz = gates.pointer
        // The input projection's gradient: dz, or back through the per-step normalisation.
        let da = normalization?.backward(dz, steps: steps, batch: batch) ?? UnsafePointer(dz)
        // Parameter gradients over all steps: kernel += xᵀ · da, bias += Σ dz, and the recurrent ones.
        backend.multiply(MatrixProduct(transposeA: true, m: features, n: width, k: rows, a: inputs.pointer, lda: features,
                                       b: da, ldb: width, beta: 1, c: kernel.gradient, ldc: width), threads: threads)
        backend.addColumnSums(of: dz, rows: rows, width: width, into: bias.gradient)
        if resetAfter {
            // recurrentKernel += h_{t−1}ᵀ · d(h_{t−1}·U), with h_{−1} = 0 first; b′ += Σ d(h_{t−1}·U).
            backend.multiply(MatrixProduct(transposeA: true, m: units, n: width, k: rows, a: hidden.pointer, lda: units,
                                           b: recurrent.pointer, ldb: width, beta: 1, c: recurrentKernel.gradient,
                                           ldc: width), threads: threads)
            backend.addColumnSums(of: recurrent.pointer, rows: rows, width: width, into: recurrentBias!.gradient)
        } else {
            backend.multiply(MatrixProduct(transposeA: true, m: units, n: 2 * units, k: rows, a: hidden.pointer,
                                           lda: units, b: dz, ldb: width, beta: 1, c: recurrentKernel.gradient,
                                           ldc: width), threads: threads)
            backend.multiply(MatrixProduct(transposeA: true, m: units, n: units, k: rows, a: resetHidden.pointer,
                                           lda: units, b: dz + 2 * units, ldb: width, beta: 1,
                                           c: recurrentKernel.gradient + 2 * units, ldc: width), threads: threads)
        }
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        // dx = dz · kernelᵀ, back to batch-major input order.
        inputGradient.reserve(rows * features)
        backend.multiply(MatrixProduct(transposeB: true, m: rows, n: features, k: width, a: da, lda: width,
                                       b: kernel.value, ldb: width, beta: 0, c: inputGradient.pointer, ldc: features),
                         threads: threads)
        return Tensor(shape: [batch, steps, features]) { dx in
            TimeMajor.scatter(inputGradient.pointer, into: dx, batch: batch, order: order, width: features)
        }
    }

    // MARK: The vector passes of one step, over a group of the batch's rows

    /// Runs `body` over groups of the batch's rows, on up to ``threads`` threads when the step is
    /// large enough to pay for them.
    private func forEachRowGroup(_ body: (Range<Int>) -> Void) {
        let parts = Parallel.split(batch, into: min(threads, max(1, batch * units >> 13)))
        if parts.count == 1 { return body(0..<batch) }
        Parallel.forEach(parts.count) { body(parts[$0]) }
    }

    /// The lanes `j..<j + count` of one row: loads and stores of `count` ≤ 8 floats.
    @inline(__always) private static func load(_ p: UnsafePointer<Float>, _ count: Int) -> Vector {
        VectorMath.load(p, count: count)
    }
    @inline(__always) private static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == 8 { VectorMath.store(v, p) } else { VectorMath.store(v, p, count: count) }
    }

    /// resetAfter: z, r, n and h_t from the input side (in `gates`) and h_{t−1}·U + b′ (in
    /// `recurrent`), through the backend's GRU step (the C kernels on the CPU).
    private func stepForwardResetAfter(step s: Int, rows range: Range<Int>) {
        let width = 3 * units, row = s * batch + range.lowerBound
        backend.gruStepForward(GRUStep(gate: recurrentActivation, activation: activation, rows: range.count, units: units),
                               gates: gates.pointer + row * width, recurrent: recurrent.pointer + row * width,
                               previous: hidden.pointer + row * units, next: hidden.pointer + (row + batch) * units)
    }

    /// resetAfter, backward: replaces z, r, n with the gradients of their pre-activations on the input
    /// side, `recurrent` with the gradient of h_{t−1}·U + b′, and leaves dh_t ⊙ z in `carried`.
    private func stepBackwardResetAfter(step s: Int, rows range: Range<Int>) {
        let width = 3 * units, row = s * batch + range.lowerBound, b = range.lowerBound
        backend.gruStepBackward(GRUStep(gate: recurrentActivation, activation: activation, rows: range.count, units: units),
                                gates: gates.pointer + row * width, recurrent: recurrent.pointer + row * width,
                                previous: hidden.pointer + row * units, dh: stepGradient.pointer + b * units,
                                carry: carried.pointer + b * units)
    }

    /// Original convention: activates z and r and keeps r ⊙ h_{t−1}, the candidate's recurrent input.
    private func stepGatesOriginal(step s: Int, rows range: Range<Int>) {
        let u = units, width = 3 * u, gate = recurrentActivation
        for b in range {
            let row = s * batch + b
            let g = gates.pointer + row * width, previous = hidden.pointer + row * u
            let reset = resetHidden.pointer + row * u
            for j in stride(from: 0, to: u, by: 8) {
                let c = min(8, u - j)
                Self.store(gate.apply(Self.load(g + j, c)), g + j, c)
                let r = gate.apply(Self.load(g + u + j, c))
                Self.store(r, g + u + j, c)
                Self.store(r * Self.load(previous + j, c), reset + j, c)
            }
        }
    }

    /// Original convention: the candidate n and h_t.
    private func stepCandidateOriginal(step s: Int, rows range: Range<Int>) {
        let u = units, width = 3 * u, act = activation
        for b in range {
            let row = s * batch + b
            let g = gates.pointer + row * width
            let previous = hidden.pointer + row * u, next = hidden.pointer + (row + batch) * u
            for j in stride(from: 0, to: u, by: 8) {
                let c = min(8, u - j)
                let z = Self.load(g + j, c), n = act.apply(Self.load(g + 2 * u + j, c))
                Self.store(n, g + 2 * u + j, c)
                Self.store(VectorMath.multiplyAdd(z, Self.load(previous + j, c) - n, n), next + j, c)
            }
        }
    }

    /// Original convention, backward, first half: the gradients of z's and n's pre-activations
    /// (in their slots) and dh_t ⊙ z in `carried`.
    private func stepCandidateBackwardOriginal(step s: Int, rows range: Range<Int>) {
        let u = units, width = 3 * u, gate = recurrentActivation, act = activation
        for b in range {
            let row = s * batch + b
            let g = gates.pointer + row * width, previous = hidden.pointer + row * u
            let dh = stepGradient.pointer + b * u, carry = carried.pointer + b * u
            for j in stride(from: 0, to: u, by: 8) {
                let c = min(8, u - j)
                let z = Self.load(g + j, c), n = Self.load(g + 2 * u + j, c), d = Self.load(dh + j, c)
                Self.store(d * (Self.load(previous + j, c) - n) * gate.derivative(output: z), g + j, c)
                Self.store(d * (1 - z) * act.derivative(output: n), g + 2 * u + j, c)
                Self.store(d * z, carry + j, c)
            }
        }
    }

    /// Original convention, backward, second half: from d(r ⊙ h_{t−1}), r's pre-activation gradient
    /// (in its slot) and r ⊙ d(r ⊙ h_{t−1}) added to `carried`.
    private func stepGatesBackwardOriginal(step s: Int, rows range: Range<Int>) {
        let u = units, width = 3 * u, gate = recurrentActivation
        for b in range {
            let row = s * batch + b
            let g = gates.pointer + row * width, previous = hidden.pointer + row * u
            let dReset = resetGradient.pointer + b * u, carry = carried.pointer + b * u
            for j in stride(from: 0, to: u, by: 8) {
                let c = min(8, u - j)
                let r = Self.load(g + u + j, c), d = Self.load(dReset + j, c)
                Self.store(d * Self.load(previous + j, c) * gate.derivative(output: r), g + u + j, c)
                Self.store(VectorMath.multiplyAdd(d, r, Self.load(carry + j, c)), carry + j, c)
            }
        }
    }
}

extension GRU: PyTorchConvertible, PyTorchRecurrent {
    public func pyTorchModules() throws -> [PyTorchModule] { [try pyTorchModule(reverse: nil)] }

    /// `KerasGRU`, an `nn.GRU` (batch first) returning Keras' outputs: the sequence, or each
    /// direction's last state. PyTorch packs the gates r, z, n: `weight_ih_l0` = kernelᵀ,
    /// `weight_hh_l0` = recurrentKernelᵀ, `bias_ih_l0` = bias, `bias_hh_l0` = recurrentBias, each
    /// with its gate blocks reordered; `_reverse` for the mirror. nn.GRU resets after the product,
    /// with sigmoid gates and a tanh candidate: the original convention or another activation is refused.
    public func pyTorchModule(reverse: (any RecurrentLayer)?) throws -> PyTorchModule {
        let directions = try pyTorchDirections(reverse: reverse, goesBackwards: goBackwards)
        guard batchNormalization?.enabled == nil else { throw ShapeError("\(name): PyTorch's nn.GRU has no batch normalisation inside") }
        guard resetAfter else {
            throw ShapeError("\(name): PyTorch's nn.GRU applies the reset gate after the recurrent product "
                             + "(reset_after=true); this layer has reset_after=false")
        }
        guard activation == .tanh, recurrentActivation == .sigmoid else {
            throw ShapeError("\(name): PyTorch's nn.GRU has sigmoid gates and a tanh candidate, this layer "
                             + "\(recurrentActivation.rawValue) and \(activation.rawValue)")
        }
        let pyTorchOrder = [1, 0, 2]  // r, z, n from our z, r, h
        let tensors = directions.flatMap { layer, suffix in
            [PyTorchTensor("weight_ih_l0" + suffix, layer.kernel, layout: .transposed, blockOrder: pyTorchOrder),
             PyTorchTensor("weight_hh_l0" + suffix, layer.recurrentKernel, layout: .transposed, blockOrder: pyTorchOrder),
             PyTorchTensor("bias_ih_l0" + suffix, layer.bias, blockOrder: pyTorchOrder),
             PyTorchTensor("bias_hh_l0" + suffix, layer.recurrentBias!, blockOrder: pyTorchOrder)]
        }
        let options = (reverse != nil ? ", bidirectional=True" : "") + (returnSequences ? ", return_sequences=True" : "")
            + (goBackwards ? ", go_backwards=True" : "")
        return PyTorchModule("KerasGRU(\(features), \(units)\(options))", tensors: tensors, helpers: ["KerasGRU": """
            class KerasGRU(nn.GRU):
                \"\"\"nn.GRU (batch first) with Keras' outputs: every step's, or the last state of each direction
                (the backward direction's at step 0); go_backwards reads the sequence from its end.\"\"\"
                def __init__(self, input_size, hidden_size, bidirectional=False, return_sequences=False,
                             go_backwards=False):
                    super().__init__(input_size, hidden_size, batch_first=True, bidirectional=bidirectional)
                    self.return_sequences = return_sequences
                    self.go_backwards = go_backwards

            \(PyTorchRecurrentExport.kerasOutputsForward)
            """])
    }
}
