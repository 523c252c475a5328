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
/// vector pass (`LSTMCell`), on workspace allocated once per batch shape (time-major inside);
/// backward, one GEMM over all steps gives the three parameter gradients. With ``threads`` > 1 the
/// batch's rows are split into groups that run through time on their own threads (rows never
/// mix), and the parameter-gradient product is split by time steps.
/// With `goBackwards` the sequence is processed from its last step to its first and, as in
/// Keras, `returnSequences` outputs are in processing order. With per-sample lengths
/// (``ForwardContext/sequenceLengths``) padding steps keep the state and output zeros (``StepOrder``).
public final class LSTM: RecurrentLayer {
    public static let typeName = "LSTM"
    public static let positionalKeys = ["units"]
    public var name = "lstm"
    public let units: Int
    public let activation: Activation
    public let recurrentActivation: Activation
    public let returnSequences: Bool
    public let goBackwards: Bool
    public let unitForgetBias: Bool
    public let kernelInitializer: Initializer
    public let recurrentInitializer: Initializer
    public let biasInitializer: Initializer
    /// Batch normalisation of the input projection per time step when set and enabled (``StepNormalizationSettings``).
    /// With it each step's product covers `[h | 1] · [recurrentKernel; bias]` only, added to the
    /// normalised `x · kernel` of all steps, made at once before the recurrence.
    public let batchNormalization: StepNormalizationSettings?
    private var normalization: StepNormalization?
    private var packedRecurrentPart: any PackedOperand  // [recurrentKernel; bias], with batch normalisation

    public private(set) var kernel: Parameter!
    public private(set) var recurrentKernel: Parameter!
    public private(set) var bias: Parameter!
    public var needsInputGradient = true
    /// Threads a pass runs on (1: the calling thread only). The same count gives the same results
    /// to the last bit; another count, the same up to rounding (the gradient is summed in another order).
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }
    /// The format of the layer's matrix products (see ``Precision``); the input gradient stays float32.
    public var precision = Precision.float32
    // The right operands of the products, made ready once per pass (the weights change only
    // between batches): packed as bf16 or float32 panels; the gate gradients, a right operand
    // used once, go to cblas_sgemm as they are in float32.
    private var weights: ParameterBlock!  // kernel, recurrentKernel, bias: [features + units + 1, 4·units]
    private var backend: any Backend = CPUBackend()  // the last forward pass's; made the operands
    private var packedWeights: any PackedOperand
    private var packedRecurrentTransposed: any PackedOperand
    private var packedGateGradients: [any PackedOperand] = []  // one per slice of the time steps
    // The slices whose step inputs the last training forward pass packed into those operands as
    // their left one (bf16), nil where it packed none.
    private var stepInputsPackedFor: [Range<Int>]?
    private var groupWorkspaces: [FloatBuffer] = []        // one per row group: the kernels pack its rows there
    private var format: OperandFormat { precision == .bfloat16 ? .bfloat16 : .float32 }
    private var gradientFormat: OperandFormat {
        precision == .bfloat16 && Precision.bfloat16Supported ? .bfloat16 : .unpacked
    }

    private var keepsSteps = false  // whether the last forward pass kept what backward reads
    // Asked between steps of a training pass: a long sequence's batch stops within a step of Ctrl-C.
    private var stopRequested: (@Sendable () -> Bool)?
    private var features = 0
    private var batch = 0
    private var steps = 0
    private var order = StepOrder(steps: 0, reversed: false)  // the last forward pass's
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
    private let partialGradients = FloatBuffer()  // [slices − 1, features + units + 1, 4·units]

    public init(units: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                returnSequences: Bool = false, goBackwards: Bool = false, unitForgetBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform,
                recurrentInitializer: Initializer = .orthogonal(),
                biasInitializer: Initializer = .zeros, batchNormalization: StepNormalizationSettings? = nil) {
        precondition(units > 0, "LSTM needs at least one unit")
        self.batchNormalization = batchNormalization
        precondition(activation != .softmax && recurrentActivation != .softmax,
                     "softmax is not an element-wise LSTM activation")
        precondition(activation.derivativeFromOutput && recurrentActivation.derivativeFromOutput,
                     "an LSTM keeps activated values only: its activations need derivatives from their outputs")
        self.units = units
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.returnSequences = returnSequences
        self.goBackwards = goBackwards
        self.unitForgetBias = unitForgetBias
        self.kernelInitializer = kernelInitializer
        self.recurrentInitializer = recurrentInitializer
        self.biasInitializer = biasInitializer
        packedWeights = backend.makePackedOperand()
        packedRecurrentTransposed = backend.makePackedOperand()
        packedRecurrentPart = backend.makePackedOperand()
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var units: Int
        public var activation: Activation?
        public var recurrentActivation: Activation?
        public var returnSequences: Bool?
        public var goBackwards: Bool?
        public var unitForgetBias: Bool?
        public var batchNormalization: StepNormalizationSettings?
        enum CodingKeys: String, CodingKey {
            case units, activation, recurrentActivation = "recurrent_activation"
            case returnSequences = "return_sequences", goBackwards = "go_backwards", unitForgetBias = "unit_forget_bias"
            case batchNormalization = "batch_normalization"
        }
    }

    public var configuration: Configuration {
        Configuration(units: units, activation: activation, recurrentActivation: recurrentActivation,
                      returnSequences: returnSequences, goBackwards: goBackwards, unitForgetBias: unitForgetBias,
                      batchNormalization: batchNormalization)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.units > 0 else { throw ShapeError("LSTM units must be positive, got \(c.units)") }
        let act = c.activation ?? .tanh, gate = c.recurrentActivation ?? .sigmoid
        guard act != .softmax, gate != .softmax, act.derivativeFromOutput, gate.derivativeFromOutput else {
            throw ShapeError("\(act == .softmax || gate == .softmax ? "softmax" : "gelu and swish are") not LSTM activations")
        }
        self.init(units: c.units, activation: act, recurrentActivation: gate,
                  returnSequences: c.returnSequences ?? false, goBackwards: c.goBackwards ?? false,
                  unitForgetBias: c.unitForgetBias ?? true, batchNormalization: c.batchNormalization)
    }

    /// The same configuration, processing in the other direction (for ``Bidirectional``).
    public func reversedCopy() -> LSTM {
        LSTM(units: units, activation: activation, recurrentActivation: recurrentActivation,
             returnSequences: returnSequences, goBackwards: !goBackwards, unitForgetBias: unitForgetBias,
             kernelInitializer: kernelInitializer, recurrentInitializer: recurrentInitializer,
             biasInitializer: biasInitializer, batchNormalization: batchNormalization)
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias].compactMap { $0 } + (normalization?.parameters ?? []) }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2, inputShape[0] > 0, inputShape[1] > 0 else {
            throw ShapeError("\(name): LSTM needs inputs of shape [steps, features], got \(inputShape)")
        }
        features = inputShape[1]
        // One block, [kernel; recurrentKernel; bias], the matrix each step's [x | h | 1] multiplies.
        let (sum, overflow) = features.addingReportingOverflow(units + 1)
        guard !overflow else { throw ShapeError("\(name): \(features) features and \(units) units overflow", isTooLarge: true) }
        weights = try context.block([sum, 4, units], for: name)
        let gateWidth = 4 * units
        kernel = Parameter(name: "kernel", shape: [features, gateWidth], in: weights, offset: 0)
        context.initialize(kernel, kernelInitializer)
        recurrentKernel = Parameter(name: "recurrent_kernel", shape: [units, gateWidth], in: weights,
                                    offset: features * gateWidth)
        context.initialize(recurrentKernel, recurrentInitializer)
        bias = Parameter(name: "bias", shape: [gateWidth], in: weights, offset: (features + units) * gateWidth)
        context.initialize(bias, biasInitializer) { values in
            if unitForgetBias { for j in units..<(2 * units) { values[j] = 1 } }
        }
        normalization = try batchNormalization?.enabled.map {
            try StepNormalization(settings: $0, width: gateWidth, steps: inputShape[0], context: &context)
        }
        return returnSequences ? [inputShape[0], units] : [units]
    }

    /// The per-step buffers of a training pass (inputs with h and 1, gates, cells, their tanh,
    /// input gradients), the packed weights for the step and backward products, and the gate
    /// gradients packed per slice of time steps.
    public func workspaceValues(inputShape: [Int], batchSize b: Int) -> Int {
        let steps = inputShape.first ?? 0, width = features + units + 1, gw = 4 * units
        let perStep = b * (width + gw + 2 * units + features)
        return (steps + 1) * perStep + 2 * b * units + 2 * width * gw + steps * b * gw
            + max(threads - 1, 0) * width * gw
            + (normalization == nil ? 0 : 2 * steps * b * gw)  // x̂ and the projection's gradient
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        2 * inputShape[0] * (features + units) * 4 * units
    }

    /// The time index of processing step `s`.

    private var stepInputWidth: Int { features + units + 1 }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        let training = context.training
        precondition(input.rank == 3 && input.shape[2] == features,
                     "\(name): input \(input.shape) is not [batch, steps, \(features)]")
        batch = input.shape[0]
        steps = input.shape[1]
        order = context.stepOrder(batch: batch, steps: steps, reversed: goBackwards, layer: name)
        run(on: context.backend)
        packedWeights.pack(format, transposed: false, k: stepInputWidth, n: 4 * units, from: weights.value,
                           ldb: 4 * units)
        if normalization != nil {
            packedRecurrentPart.pack(format, transposed: false, k: units + 1, n: 4 * units,
                                     from: weights.value + features * 4 * units, ldb: 4 * units)
        }
        keepsSteps = training
        stopRequested = context.stopRequested
        return training ? forwardKeepingSteps(input) : forwardInference(input)
    }

    /// Makes the packed operands with `backend` when it is not the one they came from.
    private func run(on backend: any Backend) {
        guard backend !== self.backend else { return }
        self.backend = backend
        packedWeights = backend.makePackedOperand()
        packedRecurrentTransposed = backend.makePackedOperand()
        packedRecurrentPart = backend.makePackedOperand()
        packedGateGradients = []
    }

    /// The batch's rows in groups, one per thread, with a workspace each.
    private func rowGroups() -> [Range<Int>] {
        let groups = Parallel.split(batch, into: threads)
        while groupWorkspaces.count < groups.count { groupWorkspaces.append(FloatBuffer()) }
        return groups
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
            for s in 0..<steps {
                copyInputs(ofStep: s, rows: 0..<b, from: x.baseAddress!, to: stepInputs.pointer + s * b * width)
            }
        }
        cells.zero(b * u)
        for row in 0..<b { hidden(0, row).update(repeating: 0, count: u) }
        if let normalization {
            // x · kernel for every step at once, normalised per step: the steps add [h | 1] · [recurrentKernel; bias].
            backend.multiply(MatrixProduct(m: steps * b, n: gw, k: features, a: stepInputs.pointer, lda: width,
                                           b: kernel.value, ldb: gw, beta: 0, c: gates.pointer, ldc: gw), threads: threads)
            normalization.forward(gates.pointer, order: order, batch: b, training: true, adding: nil)
        }
        let groups = rowGroups()
        // bf16 packs each step's inputs for the weight gradients right after its step product has
        // read them (in cache then, cold in the backward pass).
        let slices = gradientSlices()
        let packsInputs = packsInPieces(groups: groups) && slices.indices.allSatisfy {
            packedGateGradients[$0].startPackingLeftRows(gradientFormat, m: width, k: slices[$0].count * b)
        }
        stepInputsPackedFor = packsInputs ? slices : nil
        Parallel.forEach(groups.count) { group in
            let rows = groups[group], cell = self.cell(rows: rows.count), workspace = groupWorkspaces[group]
            for s in 0..<steps {
                if let stop = stopRequested, stop() { break }
                let z = gates.pointer + (s * b + rows.lowerBound) * gw
                if normalization != nil {
                    packedRecurrentPart.multiply(m: rows.count, a: stepInputs.pointer + (s * b + rows.lowerBound) * width + features,
                                                 lda: width, beta: 1, c: z, ldc: gw, workspace: workspace)
                } else {
                    packedWeights.multiply(m: rows.count, a: stepInputs.pointer + (s * b + rows.lowerBound) * width,
                                           lda: width, beta: 0, c: z, ldc: gw, workspace: workspace)
                }
                if packsInputs {
                    let (slice, pieceRows) = Self.piece(step: s, rows: rows, batch: b, slices: slices)
                    packedGateGradients[slice].packLeftRows(pieceRows, from: stepInputs.pointer + (s * b + rows.lowerBound) * width,
                                                            lda: width)
                }
                backend.lstmStepForward(cell, gates: z, previousCell: cells.pointer + (s * b + rows.lowerBound) * u,
                                        cell: cells.pointer + ((s + 1) * b + rows.lowerBound) * u,
                                        cellActivation: cellTanh.pointer + (s * b + rows.lowerBound) * u,
                                        hidden: hidden(s + 1, rows.lowerBound), hiddenStride: width)
                PaddedRows.carryState(order: order, step: s, rows: rows, previous: hidden(s), next: hidden(s + 1),
                                      stride: width, width: u)
                PaddedRows.carryState(order: order, step: s, rows: rows, previous: cells.pointer + s * b * u,
                                      next: cells.pointer + (s + 1) * b * u, stride: u, width: u)
            }
        }

        var output = Tensor(zeros: returnSequences ? [b, steps, u] : [b, u])
        output.scalars.withUnsafeMutableBufferPointer { y in
            for row in 0..<b {
                if returnSequences {
                    for s in 0..<steps where !order.isPadding(s, row) {
                        (y.baseAddress! + (row * steps + order.outputPosition(s, row)) * u).update(from: hidden(s + 1, row), count: u)
                    }
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
        var sequence = Tensor(zeros: returnSequences ? [b, steps, u] : [b, u])
        let groups = rowGroups()
        input.scalars.withUnsafeBufferPointer { xBuffer in
            sequence.scalars.withUnsafeMutableBufferPointer { yBuffer in
                let (x, y) = (xBuffer.baseAddress!, yBuffer.baseAddress!)
                Parallel.forEach(groups.count) { group in
                    let rows = groups[group], first = rows.lowerBound, cell = self.cell(rows: rows.count)
                    let workspace = groupWorkspaces[group]
                    // Padding steps leave a sample's state as it was: set aside before, put back after.
                    var (paddedHidden, paddedCells) = (PaddedRows(), PaddedRows())
                    for s in 0..<steps {
                        paddedHidden.setAside(order: order, step: s, rows: rows, hidden, stride: width, width: u)
                        paddedCells.setAside(order: order, step: s, rows: rows, cells.pointer, stride: u, width: u)
                        copyInputs(ofStep: s, rows: rows, from: x, to: stepInputs.pointer)
                        if let normalization {
                            // The normalised x · kernel (step s's moving statistics), then + [h | 1] · [recurrentKernel; bias].
                            backend.multiply(MatrixProduct(m: rows.count, n: gw, k: features, a: stepInputs.pointer + first * width,
                                                           lda: width, b: kernel.value, ldb: gw, beta: 0,
                                                           c: gates.pointer + first * gw, ldc: gw), threads: 1)
                            normalization.normalizeStep(gates.pointer + first * gw, rows: rows.count, step: s)
                            packedRecurrentPart.multiply(m: rows.count, a: stepInputs.pointer + first * width + features,
                                                         lda: width, beta: 1, c: gates.pointer + first * gw, ldc: gw,
                                                         workspace: workspace)
                        } else {
                            packedWeights.multiply(m: rows.count, a: stepInputs.pointer + first * width, lda: width, beta: 0,
                                                   c: gates.pointer + first * gw, ldc: gw, workspace: workspace)
                        }
                        backend.lstmStepForward(cell, gates: gates.pointer + first * gw,
                                                previousCell: cells.pointer + first * u, cell: cells.pointer + first * u,
                                                cellActivation: cellTanh.pointer + first * u,
                                                hidden: hidden + first * width, hiddenStride: width)
                        paddedHidden.passOn(into: hidden, stride: width, width: u)
                        paddedCells.passOn(into: cells.pointer, stride: u, width: u)
                        for row in rows where returnSequences ? !order.isPadding(s, row) : s == steps - 1 {
                            let position = returnSequences ? row * steps + order.outputPosition(s, row) : row
                            (y + position * u).update(from: hidden + row * width, count: u)
                        }
                    }
                }
            }
        }
        return sequence
    }

    /// Writes x_t and the trailing 1 of step s's rows [x_t | h | 1] (`stepInputWidth` apart from
    /// `firstRow` on) from the batch-major input, for the batch rows in `rows`; h is left as it is.
    private func copyInputs(ofStep s: Int, rows: Range<Int>, from x: UnsafePointer<Float>,
                            to firstRow: UnsafeMutablePointer<Float>) {
        let width = stepInputWidth
        for row in rows {
            let stepInput = firstRow + row * width
            stepInput.update(from: x + (row * steps + order.time(s, row)) * features, count: features)
            stepInput[width - 1] = 1
        }
    }

    private func cell(rows: Int) -> LSTMStep {
        LSTMStep(gate: recurrentActivation, activation: activation, rows: rows, units: units)
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
        packedRecurrentTransposed.pack(format, transposed: true, k: gw, n: u, from: recurrentKernel.value, ldb: gw)
        let groups = rowGroups()
        // bf16 packs each step's gate gradients as the cell makes them, while they are in cache.
        let slices = gradientSlices()
        let packsGatesAsMade = packsInPieces(groups: groups) && slices.indices.allSatisfy {
            packedGateGradients[$0].startPackingRows(gradientFormat, k: slices[$0].count * b, n: gw)
        }
        outputGradient.scalars.withUnsafeBufferPointer { dyBuffer in
            let dy = dyBuffer.baseAddress!
            Parallel.forEach(groups.count) { group in
                let rows = groups[group], first = rows.lowerBound, cell = self.cell(rows: rows.count)
                let workspace = groupWorkspaces[group]
                let dh = hiddenGradient.pointer + first * u
                // Padding steps pass a sample's gradients on unchanged and give it none of theirs.
                var padded = PaddedRows()
                for s in stride(from: steps - 1, through: 0, by: -1) {
                    if let stop = stopRequested, stop() { break }
                    if returnSequences {
                        for row in rows where !order.isPadding(s, row) {
                            let dhRow = hiddenGradient.pointer + row * u
                            backend.add(dy + (row * steps + order.outputPosition(s, row)) * u, into: dhRow, count: u)
                        }
                    } else if s == steps - 1 {
                        dh.update(from: dy + first * u, count: rows.count * u)
                    }
                    padded.setAside(order: order, step: s, rows: rows, hiddenGradient.pointer, cellGradient.pointer,
                                    stride: u, width: u)
                    let dz = gates.pointer + (s * b + first) * gw
                    backend.lstmStepBackward(cell, gates: dz, previousCell: cells.pointer + (s * b + first) * u,
                                             cellActivation: cellTanh.pointer + (s * b + first) * u, dh: dh,
                                             dc: cellGradient.pointer + first * u)
                    if packsGatesAsMade {
                        let (slice, pieceRows) = Self.piece(step: s, rows: rows, batch: b, slices: slices)
                        packedGateGradients[slice].packRows(pieceRows, from: dz, ldb: gw)
                    }
                    if s > 0 {
                        // dh_{s−1} = dz_s · recurrentKernelᵀ
                        packedRecurrentTransposed.multiply(m: rows.count, a: dz, lda: gw, beta: 0, c: dh, ldc: u,
                                                           workspace: workspace)
                    }
                    padded.passOn(into: hiddenGradient.pointer, cellGradient.pointer, stride: u, width: u)
                }
            }
        }
        var projectionGradient = UnsafePointer(gates.pointer)
        if let normalization {
            // [recurrentKernel; bias] from the gate gradients, kernel from those of the normalised projection.
            let width = stepInputWidth
            backend.multiply(MatrixProduct(transposeA: true, m: u + 1, n: gw, k: steps * b, a: stepInputs.pointer + features,
                                           lda: width, b: gates.pointer, ldb: gw, beta: 1,
                                           c: weights.gradient + features * gw, ldc: gw), threads: threads)
            projectionGradient = normalization.backward(gates.pointer, steps: steps, batch: b)
            backend.multiply(MatrixProduct(transposeA: true, m: features, n: gw, k: steps * b, a: stepInputs.pointer,
                                           lda: width, b: projectionGradient, ldb: gw, beta: 1, c: kernel.gradient, ldc: gw),
                             threads: threads)
        } else {
            accumulateParameterGradients(slices: slices, packed: packsGatesAsMade)
        }
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        // dx = d(x · kernel) · kernelᵀ over all steps at once.
        backend.multiply(MatrixProduct(transposeB: true, m: steps * b, n: features, k: gw, a: projectionGradient, lda: gw,
                                       b: kernel.value, ldb: gw, beta: 0, c: inputGradient.pointer, ldc: features),
                         threads: threads)

        var result = Tensor(zeros: [b, steps, features])
        result.scalars.withUnsafeMutableBufferPointer { dx in
            for s in 0..<steps {
                for row in 0..<b {
                    (dx.baseAddress! + (row * steps + order.time(s, row)) * features)
                        .update(from: inputGradient.pointer + (s * b + row) * features, count: features)
                }
            }
        }
        return result
    }

    /// The weight gradients' steps, one slice per thread (see accumulateParameterGradients), with
    /// a packed operand for each.
    private func gradientSlices() -> [Range<Int>] {
        let slices = Parallel.split(steps, into: threads)
        while packedGateGradients.count < slices.count { packedGateGradients.append(backend.makePackedOperand()) }
        return slices
    }

    /// Whether the weight gradients' operands can be packed step by step by the row groups: bf16
    /// pieces hold whole pairs of rows (an even batch, even group starts); a normalised projection
    /// takes its gradients another way.
    private func packsInPieces(groups: [Range<Int>]) -> Bool {
        normalization == nil && batch.isMultiple(of: 2) && groups.allSatisfy { $0.lowerBound.isMultiple(of: 2) }
    }

    /// Which slice's operand step `s`'s `rows` go to, and their rows there.
    private static func piece(step s: Int, rows: Range<Int>, batch: Int, slices: [Range<Int>]) -> (Int, Range<Int>) {
        let slice = slices.firstIndex { $0.contains(s) }!
        let first = (s - slices[slice].lowerBound) * batch + rows.lowerBound
        return (slice, first..<(first + rows.count))
    }

    /// [x | h | 1]ᵀ · dz over all steps is the gradient of [kernel; recurrentKernel; bias]. The
    /// steps are cut into one slice per thread: the first slice's product accumulates straight
    /// into the parameters' shared block, the others' into their own buffers, added after in
    /// slice order (so that a thread count gives the same sum every time). The gate gradients of
    /// each slice are a packed operand, `packed` already (bf16, as the backward steps made them).
    private func accumulateParameterGradients(slices: [Range<Int>], packed alreadyPacked: Bool) {
        let (b, gw, width) = (batch, 4 * units, stepInputWidth)
        partialGradients.reserve(max(slices.count - 1, 0) * width * gw)
        Parallel.forEach(slices.count) { slice in
            let first = slices[slice].lowerBound * b, packed = packedGateGradients[slice]
            if !alreadyPacked {
                packed.pack(gradientFormat, transposed: false, k: slices[slice].count * b, n: gw,
                            from: gates.pointer + first * gw, ldb: gw)
            }
            let (c, beta): (UnsafeMutablePointer<Float>, Float) = slice == 0
                ? (weights.gradient, 1) : (partialGradients.pointer + (slice - 1) * width * gw, 0)
            if stepInputsPackedFor == slices {
                packed.multiplyPackedLeft(beta: beta, c: c, ldc: gw)
            } else {
                packed.multiply(transposeA: true, m: width, a: stepInputs.pointer + first * width, lda: width, beta: beta,
                                c: c, ldc: gw, workspace: nil)
            }
        }
        for slice in slices.indices.dropFirst() {
            let partial = partialGradients.pointer + (slice - 1) * width * gw
            backend.add(partial, into: weights.gradient, count: width * gw)
        }
    }
}


/// A recurrent layer that PyTorch runs as one of its recurrent modules, alone or both ways
/// (what ``Bidirectional`` asks of the layer it wraps to export it).
public protocol PyTorchRecurrent: RecurrentLayer {
    /// The module running this layer, and `reverse` (its mirror, in a ``Bidirectional``) beside it.
    func pyTorchModule(reverse: (any RecurrentLayer)?) throws -> PyTorchModule
}

extension PyTorchRecurrent {
    /// This layer with suffix `""` and `reverse` with `"_reverse"`, as PyTorch names a
    /// bidirectional module's parameters; a mirror of another type, or a first direction going
    /// backwards, has no PyTorch module.
    func pyTorchDirections(reverse: (any RecurrentLayer)?, goesBackwards: Bool) throws -> [(Self, String)] {
        guard let reverse else { return [(self, "")] }
        guard let mirror = reverse as? Self else { throw ShapeError("\(name): a Bidirectional of mixed layers has no PyTorch module") }
        if goesBackwards { throw ShapeError("\(name): a Bidirectional's first direction must go forwards") }
        return [(self, ""), (mirror, "_reverse")]
    }
}

/// What PyTorch's recurrent modules (`nn.LSTM`, `nn.RNN`) share in an export.
enum PyTorchRecurrentExport {
    /// One direction's weights under PyTorch's names: `weight_ih_l0` = kernelᵀ, `weight_hh_l0` =
    /// recurrentKernelᵀ, `bias_ih_l0` + `bias_hh_l0` = bias (exported as bias and zeros).
    static func tensors(kernel: Parameter, recurrentKernel: Parameter, bias: Parameter, suffix: String) -> [PyTorchTensor] {
        [PyTorchTensor("weight_ih_l0" + suffix, kernel, layout: .transposed),
         PyTorchTensor("weight_hh_l0" + suffix, recurrentKernel, layout: .transposed),
         PyTorchTensor("bias_ih_l0" + suffix, bias),
         PyTorchTensor("bias_hh_l0" + suffix, bias, carriesValue: false)]
    }

    /// The helper classes' `forward`, indented as a method: Keras' outputs from a batch-first
    /// module, every step's or the last state of each direction (the backward one's at step 0).
    static let kerasOutputsForward = """
            def forward(self, x):
                out, _ = super().forward(x.flip(1) if self.go_backwards else x)
                if self.return_sequences:
                    return out
                if self.bidirectional:
                    return torch.cat([out[:, -1, :self.hidden_size], out[:, 0, self.hidden_size:]], dim=-1)
                return out[:, -1]
        """
}

extension LSTM: PyTorchConvertible, PyTorchRecurrent {
    public func pyTorchModules() throws -> [PyTorchModule] { [try pyTorchModule(reverse: nil)] }

    /// `KerasLSTM`, an `nn.LSTM` (batch first) that returns Keras' outputs: the sequence, or the
    /// last state of each direction. `weight_ih_l0` = kernelᵀ, `weight_hh_l0` = recurrentKernelᵀ,
    /// `bias_ih_l0` + `bias_hh_l0` = bias (exported as bias and zeros); `_reverse` for the mirror.
    /// PyTorch's gates are sigmoid and its cell activation tanh: another cell activation is
    /// refused; other gates are written as they are (`nn export` refuses them without `--force`).
    public func pyTorchModule(reverse: (any RecurrentLayer)?) throws -> PyTorchModule {
        let directions = try pyTorchDirections(reverse: reverse, goesBackwards: goBackwards)
        guard batchNormalization?.enabled == nil else { throw ShapeError("\(name): PyTorch's nn.LSTM has no batch normalisation inside") }
        for (layer, _) in directions where layer.activation != .tanh {
            throw ShapeError("\(layer.name): PyTorch's nn.LSTM has tanh cells, this layer \(layer.activation.rawValue)")
        }
        let tensors = directions.flatMap { layer, suffix in
            PyTorchRecurrentExport.tensors(kernel: layer.kernel, recurrentKernel: layer.recurrentKernel, bias: layer.bias,
                                           suffix: suffix)
        }
        let options = (reverse != nil ? ", bidirectional=True" : "") + (returnSequences ? ", return_sequences=True" : "")
            + (goBackwards ? ", go_backwards=True" : "")
        return PyTorchModule("KerasLSTM(\(features), \(units)\(options))", tensors: tensors, helpers: ["KerasLSTM": """
            class KerasLSTM(nn.LSTM):
                \"\"\"nn.LSTM (batch first) with Keras' outputs: every step's, or the last state of each direction
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
