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
/// Each step is one GEMM, `[x_t | h_{t−1} | 1] · [kernel; recurrentKernel; bias]`, and one fused
/// vector pass (``LSTMCell``), on workspace allocated once per batch shape (time-major inside);
/// backward, one GEMM over all steps gives the three parameter gradients.
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
    // The right operands of the products, made ready once per pass (the weights change only
    // between batches): packed as bf16, or handed to cblas_sgemm as they are.
    private var weights: ParameterBlock!  // kernel, recurrentKernel, bias: [features + units + 1, 4·units]
    private let packedWeights = PackedMatrix()
    private let packedRecurrentTransposed = PackedMatrix()
    private let packedGateGradients = PackedMatrix()
    private var format: PackedMatrix.Format { precision == .bfloat16 ? .bfloat16 : .blas }

    private var keepsSteps = false  // whether the last forward pass kept what backward reads
    private var features = 0
    private var batch = 0
    private var steps = 0
    // Workspace, time-major in processing order (see `forward`).
    // Row r of step s in `stepInputs` is [x_t | h_{s−1} | 1], what step s multiplies by [kernel;
    // recurrentKernel; bias]: one GEMM per step gives its pre-activations (input projection,
    // recurrence and bias at once), and one GEMM over all steps gives all three gradients.
    private let stepInputs = FloatBuffer() // [steps + 1, batch, features + units + 1], h_{−1} = 0 first
    private let gates = FloatBuffer()      // [steps, batch, 4·units]: activated gates, then their gradients
    private let cells = FloatBuffer()      // [steps + 1, batch, units]: c, with c_{−1} = 0 first
    private let cellTanh = FloatBuffer()   // [steps, batch, units]: activation(c)
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
        // One block, [kernel; recurrentKernel; bias], the matrix each step's [x | h | 1] multiplies.
        weights = ParameterBlock(count: stepInputWidth * gateWidth)
        kernel = Parameter(name: "\(name).kernel", shape: [features, gateWidth], in: weights, offset: 0)
        kernel.tensor = Tensor(shape: kernel.shape,
                               scalars: kernelInitializer.values(shape: kernel.shape, generator: &generator))
        recurrentKernel = Parameter(name: "\(name).recurrent_kernel", shape: [units, gateWidth], in: weights,
                                    offset: features * gateWidth)
        recurrentKernel.tensor = Tensor(shape: recurrentKernel.shape,
                                        scalars: recurrentInitializer.values(shape: recurrentKernel.shape,
                                                                             generator: &generator))
        bias = Parameter(name: "\(name).bias", shape: [gateWidth], in: weights, offset: (features + units) * gateWidth)
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

    private var stepInputWidth: Int { features + units + 1 }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == features,
                     "\(name): input \(input.shape) is not [batch, steps, \(features)]")
        batch = input.shape[0]
        steps = input.shape[1]
        packedWeights.pack(format, transposed: false, k: stepInputWidth, n: 4 * units, from: weights.value,
                           ldb: 4 * units)
        keepsSteps = training
        return training ? forwardKeepingSteps(input) : forwardInference(input)
    }

    /// Training keeps every step's gates, cells and hidden state for the backward pass.
    private func forwardKeepingSteps(_ input: Tensor) -> Tensor {
        let (b, u, gw, width) = (batch, units, 4 * units, stepInputWidth)
        stepInputs.reserve((steps + 1) * b * width)
        gates.reserve(steps * b * gw)
        cells.reserve((steps + 1) * b * u)
        cellTanh.reserve(steps * b * u)
        /// Where step s's row r of h_{s−1} is (step `steps` holds the last h).
        func hidden(_ s: Int, _ row: Int = 0) -> UnsafeMutablePointer<Float> {
            stepInputs.pointer + (s * b + row) * width + features
        }

        // Time-major copy in processing order, so that each step's rows are contiguous.
        input.scalars.withUnsafeBufferPointer { x in
            for s in 0..<steps { copyInputs(ofStep: s, from: x.baseAddress!, to: stepInputs.pointer + s * b * width) }
        }
        cells.zero(b * u)
        for row in 0..<b { hidden(0, row).update(repeating: 0, count: u) }
        let cell = self.cell
        for s in 0..<steps {
            let z = gates.pointer + s * b * gw
            packedWeights.multiply(m: b, a: stepInputs.pointer + s * b * width, lda: width, beta: 0, c: z, ldc: gw)
            cell.forward(gates: z, previousCell: cells.pointer + s * b * u,
                         cell: cells.pointer + (s + 1) * b * u, cellTanh: cellTanh.pointer + s * b * u,
                         hidden: hidden(s + 1), hiddenStride: width)
        }

        var output = Tensor(zeros: returnSequences ? [b, steps, u] : [b, u])
        output.scalars.withUnsafeMutableBufferPointer { y in
            for row in 0..<b {
                if returnSequences {
                    for s in 0..<steps { (y.baseAddress! + (row * steps + s) * u).update(from: hidden(s + 1, row), count: u) }
                } else {
                    (y.baseAddress! + row * u).update(from: hidden(steps, row), count: u)
                }
            }
        }
        return output
    }

    /// Inference keeps one step's rows, gates and running cell state only, updated in place: a
    /// working set that stays in cache, where training streams every step's gates through memory.
    private func forwardInference(_ input: Tensor) -> Tensor {
        let (b, u, gw, width) = (batch, units, 4 * units, stepInputWidth)
        stepInputs.reserve(b * width)
        gates.reserve(b * gw)
        cells.reserve(b * u)
        cellTanh.reserve(b * u)
        cells.zero(b * u)
        let hidden = stepInputs.pointer + features  // row r's h at hidden + r · width
        for row in 0..<b { (hidden + row * width).update(repeating: 0, count: u) }
        let cell = self.cell
        var sequence = Tensor(zeros: returnSequences ? [b, steps, u] : [b, u])
        input.scalars.withUnsafeBufferPointer { x in
            sequence.scalars.withUnsafeMutableBufferPointer { y in
                for s in 0..<steps {
                    copyInputs(ofStep: s, from: x.baseAddress!, to: stepInputs.pointer)
                    packedWeights.multiply(m: b, a: stepInputs.pointer, lda: width, beta: 0, c: gates.pointer, ldc: gw)
                    cell.forward(gates: gates.pointer, previousCell: cells.pointer, cell: cells.pointer,
                                 cellTanh: cellTanh.pointer, hidden: hidden, hiddenStride: width)
                    for row in 0..<b where returnSequences || s == steps - 1 {
                        (y.baseAddress! + (returnSequences ? row * steps + s : row) * u)
                            .update(from: hidden + row * width, count: u)
                    }
                }
            }
        }
        return sequence
    }

    /// Writes x_t and the trailing 1 of step s's rows [x_t | h | 1] (rows `stepInputWidth` apart) from
    /// the batch-major input; h is left as it is.
    private func copyInputs(ofStep s: Int, from x: UnsafePointer<Float>, to rows: UnsafeMutablePointer<Float>) {
        let t = time(s), width = stepInputWidth
        for row in 0..<batch {
            let stepInput = rows + row * width
            stepInput.update(from: x + (row * steps + t) * features, count: features)
            stepInput[width - 1] = 1
        }
    }

    private var cell: LSTMCell {
        LSTMCell(gate: recurrentActivation, activation: activation, rows: batch, units: units)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (b, u, gw) = (batch, units, 4 * units)
        precondition(keepsSteps, "\(name): backward needs a forward pass with training: true first")
        precondition(outputGradient.shape == (returnSequences ? [b, steps, u] : [b, u]),
                     "\(name): gradient \(outputGradient.shape) does not match the last output")
        hiddenGradient.reserve(b * u)
        cellGradient.reserve(b * u)
        inputGradient.reserve(steps * b * features)
        hiddenGradient.zero(b * u)
        cellGradient.zero(b * u)
        let dh = hiddenGradient.pointer
        packedRecurrentTransposed.pack(format, transposed: true, k: gw, n: u, from: recurrentKernel.value, ldb: gw)
        let cell = self.cell
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
                cell.backward(gates: dz, previousCell: cells.pointer + s * b * u, cellTanh: cellTanh.pointer + s * b * u,
                              dh: dh, dc: cellGradient.pointer)
                if s > 0 {
                    // dh_{s−1} = dz_s · recurrentKernelᵀ
                    packedRecurrentTransposed.multiply(m: b, a: dz, lda: gw, beta: 0, c: dh, ldc: u)
                }
            }
        }
        // Parameter gradients over all steps at once: [x | h | 1]ᵀ · dz is [kernel; recurrentKernel; bias]'s,
        // accumulated straight into their shared block.
        let rows = steps * b, width = stepInputWidth
        packedGateGradients.pack(format, transposed: false, k: rows, n: gw, from: gates.pointer, ldb: gw)
        packedGateGradients.multiply(transposeA: true, m: width, a: stepInputs.pointer, lda: width, beta: 1,
                                     c: weights.gradient, ldc: gw)
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
}

