/// Long short-term memory over a sequence, with explicit forward and backward passes.
///
/// Inputs are `[batch, steps, features]`. Gates are packed in PyTorch's and Keras' order
/// **i, f, g, o** along the last axis of `kernel` (features × 4·units), `recurrentKernel`
/// (units × 4·units) and `bias` (4·units): per step
///
///     z = x_t · kernel + h_{t−1} · recurrentKernel + bias
///     i, f, o = recurrentActivation(z_i, z_f, z_o);  g = activation(z_g)
///     c_t = f ⊙ c_{t−1} + i ⊙ g;  h_t = o ⊙ activation(c_t)
///
/// The input projections of all steps are one GEMM; per step only the recurrent GEMM and one
/// fused vector pass run, on workspace allocated once per batch shape (time-major inside).
/// With `goBackwards` the sequence is processed from its last step to its first and, as in
/// Keras, `returnSequences` outputs are in processing order.
public final class LSTM: Layer {
    public var name = "lstm"
    public var typeName: String { "LSTM" }
    public let units: Int
    public let activation: Activation
    public let recurrentActivation: Activation
    public let returnSequences: Bool
    public let goBackwards: Bool
    public let unitForgetBias: Bool
    public let kernelInitializer: Initializer
    public let recurrentInitializer: Initializer
    public let biasInitializer: Initializer

    public private(set) var kernel: Parameter!
    public private(set) var recurrentKernel: Parameter!
    public private(set) var bias: Parameter!
    public var needsInputGradient = true
    /// The format of the layer's matrix products (see ``Precision``); the input gradient stays float32.
    public var precision = Precision.float32
    private var usesBFloat16: Bool { precision == .bfloat16 && Precision.bfloat16Supported }
    private let packedKernel = PackedBFloat16Matrix()
    private let packedRecurrent = PackedBFloat16Matrix()
    private let packedRecurrentTransposed = PackedBFloat16Matrix()
    private let packedGateGradients = PackedBFloat16Matrix()
    private let bfloat16Workspace = BFloat16Workspace()

    private var features = 0
    private var batch = 0
    private var steps = 0
    // Workspace, time-major in processing order (see `forward`).
    private let inputs = FloatBuffer()     // [steps, batch, features]
    private let gates = FloatBuffer()      // [steps, batch, 4·units]: activated gates, then their gradients
    private let cells = FloatBuffer()      // [steps + 1, batch, units]: c, with c_{-1} = 0 first
    private let cellTanh = FloatBuffer()   // [steps, batch, units]: activation(c)
    private let hidden = FloatBuffer()     // [steps + 1, batch, units]: h, with h_{-1} = 0 first
    private let hiddenGradient = FloatBuffer()  // [batch, units]
    private let cellGradient = FloatBuffer()    // [batch, units]
    private let inputGradient = FloatBuffer()   // [steps, batch, features]

    public init(units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                returnSequences: Bool = false, goBackwards: Bool = false, unitForgetBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform,
                recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros) {
        precondition(units > 0, "LSTM needs at least one unit")
        precondition(activation != .softmax && recurrentActivation != .softmax,
                     "softmax is not an element-wise LSTM activation")
        self.units = units
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.returnSequences = returnSequences
        self.goBackwards = goBackwards
        self.unitForgetBias = unitForgetBias
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        self.biasInitializer = biasInitializer
    }

    /// The same configuration, processing in the other direction (for ``Bidirectional``).
    func reversedCopy() -> LSTM {
        LSTM(units: units, activation: activation, recurrentActivation: recurrentActivation,
             returnSequences: returnSequences, goBackwards: !goBackwards, unitForgetBias: unitForgetBias,
             kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
             biasInitializer: biasInitializer)
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias].compactMap { $0 } }

    public func build(inputShape: [Int], generator: inout RandomGenerator) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0, inputShape[1] > 0 else {
            throw ShapeError("\(name): LSTM needs inputs of shape [steps, features], got \(inputShape)")
        }
        features = inputShape[1]
        let gateWidth = 4 * units
        kernel = Parameter(name: "\(name).kernel", shape: [features, gateWidth])
        kernel.tensor = Tensor(shape: kernel.shape,
                               scalars: kernelInitializer.values(shape: kernel.shape, generator: &generator))
        recurrentKernel = Parameter(name: "\(name).recurrent_kernel", shape: [units, gateWidth])
        recurrentKernel.tensor = Tensor(shape: recurrentKernel.shape,
                                        scalars: recurrentInitializer.values(shape: recurrentKernel.shape,
                                                                             generator: &generator))
        bias = Parameter(name: "\(name).bias", shape: [gateWidth])
        var biasValues = biasInitializer.values(shape: [gateWidth], generator: &generator)
        if unitForgetBias {
            for j in units..<(2 * units) { biasValues[j] = 1 }
        }
        bias.tensor = Tensor(shape: [gateWidth], scalars: biasValues)
        return returnSequences ? [inputShape[0], units] : [units]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        2 * inputShape[0] * (features + units) * 4 * units
    }

    /// The time index of processing step `s`.
    @inline(__always) private func time(_ s: Int) -> Int { goBackwards ? steps - 1 - s : s }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == features,
                     "\(name): input \(input.shape) is not [batch, steps, \(features)]")
        batch = input.shape[0]
        steps = input.shape[1]
        let (b, u, gw) = (batch, units, 4 * units)
        inputs.reserve(steps * b * features)
        gates.reserve(steps * b * gw)
        cells.reserve((steps + 1) * b * u)
        cellTanh.reserve(steps * b * u)
        hidden.reserve((steps + 1) * b * u)

        // Time-major copy in processing order, so that each step's rows are contiguous.
        input.scalars.withUnsafeBufferPointer { x in
            for s in 0..<steps {
                let t = time(s)
                for row in 0..<b {
                    (inputs.pointer + (s * b + row) * features)
                        .update(from: x.baseAddress! + (row * steps + t) * features, count: features)
                }
            }
        }
        // All input projections at once: gates = inputs · kernel (the bias joins in the cell pass,
        // in registers, rather than being copied into every row first).
        let bf16 = usesBFloat16
        if bf16 {
            // The weights change only between batches: pack them once per pass.
            packedKernel.pack(transposed: false, k: features, n: gw, from: kernel.value, ldb: gw)
            packedRecurrent.pack(transposed: false, k: u, n: gw, from: recurrentKernel.value, ldb: gw)
            BFloat16GEMM.gemm(m: steps * b, a: inputs.pointer, lda: features, b: packedKernel, beta: 0,
                              c: gates.pointer, ldc: gw, workspace: bfloat16Workspace)
        } else {
            BLAS.gemm(m: steps * b, n: gw, k: features, a: inputs.pointer, lda: features,
                      b: kernel.value, ldb: gw, beta: 0, c: gates.pointer, ldc: gw)
        }
        cells.zero(b * u)
        hidden.zero(b * u)
        for s in 0..<steps {
            let z = gates.pointer + s * b * gw
            if bf16 {
                BFloat16GEMM.gemm(m: b, a: hidden.pointer + s * b * u, lda: u, b: packedRecurrent, beta: 1,
                                  c: z, ldc: gw, workspace: bfloat16Workspace)
            } else {
                BLAS.gemm(m: b, n: gw, k: u, a: hidden.pointer + s * b * u, lda: u,
                          b: recurrentKernel.value, ldb: gw, beta: 1, c: z, ldc: gw)
            }
            cellForward(gates: z, previousCell: cells.pointer + s * b * u, cell: cells.pointer + (s + 1) * b * u,
                        cellTanh: cellTanh.pointer + s * b * u, hidden: hidden.pointer + (s + 1) * b * u)
        }

        if returnSequences {
            var output = Tensor(zeros: [b, steps, u])
            output.scalars.withUnsafeMutableBufferPointer { y in
                for s in 0..<steps {
                    for row in 0..<b {
                        (y.baseAddress! + (row * steps + s) * u)
                            .update(from: hidden.pointer + ((s + 1) * b + row) * u, count: u)
                    }
                }
            }
            return output
        }
        return Tensor(shape: [b, u], copying: hidden.pointer + steps * b * u)
    }

    /// Bias, gate non-linearities and the cell update of one step, in one pass over the batch.
    private func cellForward(gates z: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                             cell: UnsafeMutablePointer<Float>, cellTanh: UnsafeMutablePointer<Float>,
                             hidden: UnsafeMutablePointer<Float>) {
        let u = units
        let (gate, act) = (recurrentActivation, activation)
        let bias = self.bias.value
        for row in 0..<batch {
            let g = z + row * 4 * u
            let offset = row * u
            var j = 0
            while j < u {
                let n = min(8, u - j)
                let i = gate.apply(VectorMath.load(g + j, count: n) + VectorMath.load(bias + j, count: n))
                let f = gate.apply(VectorMath.load(g + u + j, count: n) + VectorMath.load(bias + u + j, count: n))
                let c̃ = act.apply(VectorMath.load(g + 2 * u + j, count: n) + VectorMath.load(bias + 2 * u + j, count: n))
                let o = gate.apply(VectorMath.load(g + 3 * u + j, count: n) + VectorMath.load(bias + 3 * u + j, count: n))
                let c = f * VectorMath.load(previousCell + offset + j, count: n) + i * c̃
                let t = act.apply(c)
                VectorMath.store(i, g + j, count: n)
                VectorMath.store(f, g + u + j, count: n)
                VectorMath.store(c̃, g + 2 * u + j, count: n)
                VectorMath.store(o, g + 3 * u + j, count: n)
                VectorMath.store(c, cell + offset + j, count: n)
                VectorMath.store(t, cellTanh + offset + j, count: n)
                VectorMath.store(o * t, hidden + offset + j, count: n)
                j += 8
            }
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (b, u, gw) = (batch, units, 4 * units)
        precondition(outputGradient.shape == (returnSequences ? [b, steps, u] : [b, u]),
                     "\(name): gradient \(outputGradient.shape) does not match the last output")
        hiddenGradient.reserve(b * u)
        cellGradient.reserve(b * u)
        inputGradient.reserve(steps * b * features)
        hiddenGradient.zero(b * u)
        cellGradient.zero(b * u)
        let dh = hiddenGradient.pointer
        let bf16 = usesBFloat16
        if bf16 { packedRecurrentTransposed.pack(transposed: true, k: gw, n: u, from: recurrentKernel.value, ldb: gw) }
        outputGradient.scalars.withUnsafeBufferPointer { dyBuffer in
            let dy = dyBuffer.baseAddress!
            for s in stride(from: steps - 1, through: 0, by: -1) {
                if returnSequences {
                    for row in 0..<b {
                        VectorMath.zipMap(dh + row * u, dy + (row * steps + s) * u, dh + row * u, count: u) { $0 + $1 }
                    }
                } else if s == steps - 1 {
                    dh.update(from: dy, count: b * u)
                }
                let dz = gates.pointer + s * b * gw
                cellBackward(gates: dz, previousCell: cells.pointer + s * b * u, cellTanh: cellTanh.pointer + s * b * u)
                if s > 0 {
                    // dh_{s−1} = dz_s · recurrentKernelᵀ
                    if bf16 {
                        BFloat16GEMM.gemm(m: b, a: dz, lda: gw, b: packedRecurrentTransposed, beta: 0,
                                          c: dh, ldc: u, workspace: bfloat16Workspace)
                    } else {
                        BLAS.gemm(transposeB: true, m: b, n: u, k: gw, a: dz, lda: gw,
                                  b: recurrentKernel.value, ldb: gw, beta: 0, c: dh, ldc: u)
                    }
                }
            }
        }
        // Parameter gradients over all steps at once.
        let rows = steps * b
        if bf16 {
            // The gate gradients of all steps, packed once, serve both weight gradients.
            packedGateGradients.pack(transposed: false, k: rows, n: gw, from: gates.pointer, ldb: gw)
            BFloat16GEMM.gemm(transposeA: true, m: u, a: hidden.pointer, lda: u, b: packedGateGradients, beta: 1,
                              c: recurrentKernel.gradient, ldc: gw, workspace: bfloat16Workspace)
            BFloat16GEMM.gemm(transposeA: true, m: features, a: inputs.pointer, lda: features, b: packedGateGradients,
                              beta: 1, c: kernel.gradient, ldc: gw, workspace: bfloat16Workspace)
        } else {
            BLAS.gemm(transposeA: true, m: u, n: gw, k: rows, a: hidden.pointer, lda: u,
                      b: gates.pointer, ldb: gw, beta: 1, c: recurrentKernel.gradient, ldc: gw)
            BLAS.gemm(transposeA: true, m: features, n: gw, k: rows, a: inputs.pointer, lda: features,
                      b: gates.pointer, ldb: gw, beta: 1, c: kernel.gradient, ldc: gw)
        }
        ColumnSum.add(gates.pointer, rows: rows, width: gw, into: bias.gradient)
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        BLAS.gemm(transposeB: true, m: rows, n: features, k: gw, a: gates.pointer, lda: gw,
                  b: kernel.value, ldb: gw, beta: 0, c: inputGradient.pointer, ldc: features)

        var result = Tensor(zeros: [b, steps, features])
        result.scalars.withUnsafeMutableBufferPointer { dx in
            for s in 0..<steps {
                let t = time(s)
                for row in 0..<b {
                    (dx.baseAddress! + (row * steps + t) * features)
                        .update(from: inputGradient.pointer + (s * b + row) * features, count: features)
                }
            }
        }
        return result
    }

    /// One step backward: reads dh (this step's total) and dc (from the step after), replaces the
    /// activated gates with the gradients of their pre-activations, and leaves dc for the step before.
    private func cellBackward(gates z: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                              cellTanh: UnsafePointer<Float>) {
        let u = units
        let (gate, act) = (recurrentActivation, activation)
        let dh = hiddenGradient.pointer, dcCarry = cellGradient.pointer
        for row in 0..<batch {
            let g = z + row * 4 * u
            let offset = row * u
            var j = 0
            while j < u {
                let n = min(8, u - j)
                let i = VectorMath.load(g + j, count: n)
                let f = VectorMath.load(g + u + j, count: n)
                let c̃ = VectorMath.load(g + 2 * u + j, count: n)
                let o = VectorMath.load(g + 3 * u + j, count: n)
                let t = VectorMath.load(cellTanh + offset + j, count: n)
                let dhv = VectorMath.load(dh + offset + j, count: n)
                let dc = VectorMath.load(dcCarry + offset + j, count: n) + dhv * o * act.derivative(output: t)
                let cPrev = VectorMath.load(previousCell + offset + j, count: n)
                VectorMath.store(dc * c̃ * gate.derivative(output: i), g + j, count: n)
                VectorMath.store(dc * cPrev * gate.derivative(output: f), g + u + j, count: n)
                VectorMath.store(dc * i * act.derivative(output: c̃), g + 2 * u + j, count: n)
                VectorMath.store(dhv * t * gate.derivative(output: o), g + 3 * u + j, count: n)
                VectorMath.store(dc * f, dcCarry + offset + j, count: n)
                j += 8
            }
        }
    }
}
