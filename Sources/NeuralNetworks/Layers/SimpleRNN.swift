/// A fully connected recurrent layer (Keras `SimpleRNN`, PyTorch `nn.RNN`), with explicit
/// forward and backward passes. Inputs are `[batch, steps, features]`; per step
///
///     h_t = activation(x_t · kernel + h_{t−1} · recurrentKernel + bias),   h_{−1} = 0
///
/// with `kernel` features × units, `recurrentKernel` units × units and `bias` units (PyTorch's
/// `weight_ih_l0`ᵀ, `weight_hh_l0`ᵀ and `bias_ih_l0 + bias_hh_l0`). The input projection of all
/// steps is one product, then each step one product by `recurrentKernel`; backward, one product
/// each gives the kernel, recurrent-kernel and input gradients over all steps. Workspace is
/// time-major in processing order: with `goBackwards` the sequence is read from its last step,
/// and (as in Keras) `returnSequences` outputs are in processing order. With per-sample lengths
/// (``ForwardContext/sequenceLengths``) padding steps keep the state and output zeros (``StepOrder``).
public final class SimpleRNN: RecurrentLayer {
    public static let typeName = "SimpleRNN"
    public static let positionalKeys = ["units", "activation"]
    public static let specAliases = ["rnn"]
    public var name = "simple_rnn"
    public let units: Int
    public let activation: Activation
    public let returnSequences: Bool
    public let goBackwards: Bool
    public let kernelInitializer: Initializer
    public let recurrentInitializer: Initializer
    public let biasInitializer: Initializer
    /// Batch normalisation of the input projection per time step when set and enabled (``StepNormalizationSettings``).
    public let batchNormalization: StepNormalizationSettings?

    public private(set) var kernel: Parameter!
    public private(set) var recurrentKernel: Parameter!
    public private(set) var bias: Parameter!
    private var normalization: StepNormalization?
    public var needsInputGradient = true
    /// Threads the products and element-wise passes may use.
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
    private let inputs = FloatBuffer()        // [steps, batch, features], processing order
    private let preActivations = FloatBuffer() // [steps, batch, units]: z_t, then its gradient
    private let hidden = FloatBuffer()        // [steps, batch, units]: h_t
    private let hiddenGradient = FloatBuffer() // [batch, units]: dh flowing back from the next step
    private let stepGradient = FloatBuffer()  // [batch, units]: dh_t, output and recurrence summed
    private let inputGradient = FloatBuffer() // [steps, batch, features]

    public init(units: Int, activation: Activation = .tanh, returnSequences: Bool = false, goBackwards: Bool = false,
                kernelInitializer: Initializer = .glorotUniform, recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, batchNormalization: StepNormalizationSettings? = nil) {
        precondition(units > 0, "SimpleRNN needs at least one unit")
        self.batchNormalization = batchNormalization
        precondition(activation != .softmax, "softmax is not an element-wise activation")
        (self.units, self.activation, self.returnSequences, self.goBackwards) = (units, activation, returnSequences, goBackwards)
        (self.kernelInitializer, self.recurrentInitializer, self.biasInitializer) =
            (kernelInitializer, recurrentInitializer, biasInitializer)
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var units: Int
        public var activation: Activation?
        public var returnSequences: Bool?
        public var goBackwards: Bool?
        public var batchNormalization: StepNormalizationSettings?
        enum CodingKeys: String, CodingKey {
            case units, activation, returnSequences = "return_sequences", goBackwards = "go_backwards"
            case batchNormalization = "batch_normalization"
        }
    }

    public var configuration: Configuration {
        Configuration(units: units, activation: activation, returnSequences: returnSequences, goBackwards: goBackwards,
                      batchNormalization: batchNormalization)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.units > 0 else { throw ShapeError("SimpleRNN units must be positive, got \(c.units)") }
        guard c.activation != .softmax else { throw ShapeError("softmax is not a SimpleRNN activation") }
        self.init(units: c.units, activation: c.activation ?? .tanh, returnSequences: c.returnSequences ?? false,
                  goBackwards: c.goBackwards ?? false, batchNormalization: c.batchNormalization)
    }

    public func reversedCopy() -> SimpleRNN {
        SimpleRNN(units: units, activation: activation, returnSequences: returnSequences, goBackwards: !goBackwards,
                  kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
                  biasInitializer: biasInitializer, batchNormalization: batchNormalization)
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias].compactMap { $0 } + (normalization?.parameters ?? []) }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0, inputShape[1] > 0 else {
            throw ShapeError("\(name): SimpleRNN needs inputs of shape [steps, features], got \(inputShape)")
        }
        (steps, features) = (inputShape[0], inputShape[1])
        kernel = try context.parameter("kernel", shape: [features, units], initializer: kernelInitializer)
        recurrentKernel = try context.parameter("recurrent_kernel", shape: [units, units], initializer: recurrentInitializer)
        bias = try context.parameter("bias", shape: [units], initializer: biasInitializer)
        normalization = try batchNormalization?.enabled.map {
            try StepNormalization(settings: $0, width: units, steps: steps, context: &context)
        }
        return returnSequences ? [steps, units] : [units]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int { 2 * inputShape[0] * (features + units) * units }

    public func workspaceValues(inputShape: [Int], batchSize b: Int) -> Int {
        inputShape[0] * b * (2 * features + 2 * units) + 2 * b * units
            + (normalization == nil ? 0 : 2 * inputShape[0] * b * units)  // x̂ and the projection's gradient
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(input.shape.count == 3 && input.shape[2] == features, "\(name): input \(input.shape), expected [batch, steps, \(features)]")
        backend = context.backend
        (batch, steps) = (input.shape[0], input.shape[1])
        order = context.stepOrder(batch: batch, steps: steps, reversed: goBackwards, layer: name)
        let rows = steps * batch
        inputs.reserve(rows * features)
        preActivations.reserve(rows * units)
        hidden.reserve(rows * units)
        // Time-major copy of the inputs in processing order: each step's rows lie together.
        input.scalars.withUnsafeBufferPointer { x in
            TimeMajor.gather(x.baseAddress!, into: inputs.pointer, batch: batch, order: order, width: features)
        }
        // z = x · kernel + bias for every step at once (the product normalised per step first, with batch normalisation).
        if normalization == nil { backend.fillRows(preActivations.pointer, rows: rows, width: units, with: bias.value) }
        backend.multiply(MatrixProduct(m: rows, n: units, k: features, a: inputs.pointer, lda: features, b: kernel.value,
                                       ldb: units, beta: normalization == nil ? 1 : 0, c: preActivations.pointer, ldc: units),
                         threads: threads)
        normalization?.forward(preActivations.pointer, order: order, batch: batch, training: context.training, adding: bias.value)
        for s in 0..<steps {
            let z = preActivations.pointer + s * batch * units
            if s > 0 {
                // z_t += h_{t−1} · recurrentKernel
                backend.multiply(MatrixProduct(m: batch, n: units, k: units, a: hidden.pointer + (s - 1) * batch * units,
                                               lda: units, b: recurrentKernel.value, ldb: units, beta: 1, c: z, ldc: units),
                                 threads: threads)
            }
            backend.activate(activation, z, hidden.pointer + s * batch * units, rows: batch, width: units, threads: threads)
            PaddedRows.carryState(order: order, step: s, rows: 0..<batch,
                                  previous: s > 0 ? hidden.pointer + (s - 1) * batch * units : nil,
                                  next: hidden.pointer + s * batch * units, stride: units, width: units)
            if context.shouldStop { break }
        }
        guard returnSequences else {
            return Tensor(shape: [batch, units], copying: hidden.pointer + (steps - 1) * batch * units)
        }
        return Tensor(shape: [batch, steps, units]) { y in
            TimeMajor.scatterOutputs(hidden.pointer, into: y, batch: batch, order: order, width: units)
        }
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let rows = steps * batch
        hiddenGradient.reserve(batch * units)
        hiddenGradient.zero(batch * units)
        stepGradient.reserve(batch * units)
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            for s in stride(from: steps - 1, through: 0, by: -1) {
                // dh_t = the output's gradient at this step (every step, or the last) + what h_t fed forward.
                let dh = stepGradient.pointer
                TimeMajor.stepGradient(dh, carried: hiddenGradient.pointer, outputGradient: dy.baseAddress!, step: s, order: order,
                                       batch: batch, units: units, returnSequences: returnSequences, backend: backend)
                padded.setAside(order: order, step: s, rows: 0..<batch, dh, stride: units, width: units)
                // dz_t overwrites z_t: the activation's gradient from its input and output.
                let z = preActivations.pointer + s * batch * units
                backend.activationGradient(activation, input: z, output: hidden.pointer + s * batch * units,
                                           outputGradient: dh, inputGradient: z, rows: batch, width: units, threads: threads)
                // dh_{t−1} = dz_t · recurrentKernelᵀ
                if s > 0 {
                    backend.multiply(MatrixProduct(transposeB: true, m: batch, n: units, k: units, a: z, lda: units,
                                                   b: recurrentKernel.value, ldb: units, beta: 0, c: hiddenGradient.pointer,
                                                   ldc: units), threads: threads)
                }
                padded.passOn(into: hiddenGradient.pointer, stride: units, width: units)
            }
        }
        let dz = preActivations.pointer
        // The projection's gradient: dz, or back through the per-step normalisation.
        let da = normalization?.backward(dz, steps: steps, batch: batch) ?? UnsafePointer(dz)
        // The parameter gradients over all steps: kernel += xᵀ · da, recurrent += h_{t−1}ᵀ · dz_t, bias += Σ dz.
        backend.multiply(MatrixProduct(transposeA: true, m: features, n: units, k: rows, a: inputs.pointer, lda: features,
                                       b: da, ldb: units, beta: 1, c: kernel.gradient, ldc: units), threads: threads)
        if steps > 1 {
            backend.multiply(MatrixProduct(transposeA: true, m: units, n: units, k: rows - batch, a: hidden.pointer,
                                           lda: units, b: dz + batch * units, ldb: units, beta: 1,
                                           c: recurrentKernel.gradient, ldc: units), threads: threads)
        }
        backend.addColumnSums(of: dz, rows: rows, width: units, into: bias.gradient)
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        // dx = dz · kernelᵀ, back to batch-major input order.
        inputGradient.reserve(rows * features)
        backend.multiply(MatrixProduct(transposeB: true, m: rows, n: features, k: units, a: da, lda: units,
                                       b: kernel.value, ldb: units, beta: 0, c: inputGradient.pointer, ldc: features),
                         threads: threads)
        return Tensor(shape: [batch, steps, features]) { dx in
            TimeMajor.scatter(inputGradient.pointer, into: dx, batch: batch, order: order, width: features)
        }
    }
}

extension SimpleRNN: PyTorchConvertible, PyTorchRecurrent {
    public func pyTorchModules() throws -> [PyTorchModule] { [try pyTorchModule(reverse: nil)] }

    /// `KerasRNN`, an `nn.RNN` (batch first, tanh or relu) returning Keras' outputs: the sequence,
    /// or each direction's last state. `weight_ih_l0` = kernelᵀ, `weight_hh_l0` = recurrentKernelᵀ,
    /// `bias_ih_l0` + `bias_hh_l0` = bias (exported as bias and zeros); `_reverse` for the mirror.
    public func pyTorchModule(reverse: (any RecurrentLayer)?) throws -> PyTorchModule {
        let directions = try pyTorchDirections(reverse: reverse, goesBackwards: goBackwards)
        guard batchNormalization?.enabled == nil else { throw ShapeError("\(name): PyTorch's nn.RNN has no batch normalisation inside") }
        guard activation == .tanh || activation == .relu else {
            throw ShapeError("\(name): PyTorch's nn.RNN has tanh or relu, this layer \(activation.rawValue)")
        }
        let tensors = directions.flatMap { layer, suffix in
            PyTorchRecurrentExport.tensors(kernel: layer.kernel, recurrentKernel: layer.recurrentKernel, bias: layer.bias,
                                           suffix: suffix)
        }
        let options = ", nonlinearity=\"\(activation.rawValue)\"" + (reverse != nil ? ", bidirectional=True" : "")
            + (returnSequences ? ", return_sequences=True" : "") + (goBackwards ? ", go_backwards=True" : "")
        return PyTorchModule("KerasRNN(\(features), \(units)\(options))", tensors: tensors, helpers: ["KerasRNN": """
            class KerasRNN(nn.RNN):
                \"\"\"nn.RNN (batch first) with Keras' outputs: every step's, or the last state of each direction
                (the backward direction's at step 0); go_backwards reads the sequence from its end.\"\"\"
                def __init__(self, input_size, hidden_size, nonlinearity="tanh", bidirectional=False,
                             return_sequences=False, go_backwards=False):
                    super().__init__(input_size, hidden_size, nonlinearity=nonlinearity, batch_first=True,
                                     bidirectional=bidirectional)
                    self.return_sequences = return_sequences
                    self.go_backwards = go_backwards

            \(PyTorchRecurrentExport.kerasOutputsForward)
            """])
    }
}
