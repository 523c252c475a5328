import Foundation

/// A layer that can run on the GPU with its buffers there: it makes a ``CUDALayerForm`` for a
/// plan (``CUDAModel``), or nil when this configuration has no device form (the whole model then
/// runs layer by layer through ``CUDABackend``'s calls). A layer's device form is one file in
/// `Sources/NeuralNetworks/CUDA`, beside the layer's own.
public protocol CUDALayer: Layer {
    func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)?
}

/// A layer's passes on device memory, for batches of up to ``CUDAPlan/capacity`` samples, with
/// every buffer allocated when the form is made. Inputs and outputs are batch-major, as the
/// layer's tensors are on the host.
public protocol CUDALayerForm: AnyObject {
    /// Before each pass of `batch` samples, outside any recording, with the pass's context (training
    /// or not, the layers' random streams): the host-side work the pass needs, as drawing and
    /// uploading a dropout mask (a recorded step then reads it from device memory). Nothing by default.
    func prepare(batch: Int, context: ForwardContext) throws
    /// The output of `batch` samples of `input` (a buffer of the form's, valid until its next forward).
    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer
    /// Adds the parameters' gradients from the output's, and gives the input's (nil when the
    /// layer needs none: the first layers with parameters).
    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer?
}

extension CUDALayerForm {
    public func prepare(batch: Int, context: ForwardContext) throws {}
}

/// Where a device form's work goes: the model's stream, or a second one whose work may run at the
/// same time (the second direction of a bidirectional layer, between ``CUDAPlan/fork()`` and
/// ``CUDAPlan/join()``).
public enum CUDALane: Sendable { case first, second }

/// A recurrent layer's device form, which ``Bidirectional``'s runs in either direction: on the
/// lane it is given, with its input gradient written into (or added to) a buffer of the caller's.
public protocol CUDARecurrentForm: CUDALayerForm {
    var units: Int { get }
    var lane: CUDALane { get set }
    /// Where the form's input gradient goes when it runs on its own (not inside ``Bidirectional``).
    var inputGradient: CUDABuffer { get }
    /// Backward with the input gradient written into `dx` (or added to it, with `accumulate`);
    /// whether there was one to write (the layer may need none).
    func backward(_ outputGradient: CUDABuffer, batch: Int, into dx: CUDABuffer, accumulate: Bool) throws -> Bool
}

extension CUDARecurrentForm {
    /// Backward on its own: the input gradient in ``inputGradient``.
    public func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        try backward(outputGradient, batch: batch, into: inputGradient, accumulate: false) ? inputGradient : nil
    }
}

/// What the layers' device forms share: the device, cuBLAS, the batch capacity and the model's
/// parameters and gradients, each one flat buffer in the order of ``Sequential/parameters`` (so
/// that a layer's parameter block, as LSTM's [kernel; recurrent kernel; bias], stays one block).
public final class CUDAPlan {
    public let device: CUDADevice
    /// cuBLAS on the first lane.
    public let blas: CUBLAS
    /// The most samples a batch may have.
    public let capacity: Int
    let values: CUDABuffer
    let gradients: CUDABuffer
    private let offsets: [ObjectIdentifier: Int]
    private let second: CUDAStream
    private let secondBlas: CUBLAS
    private let forkEvent: CUDAEvent, joinEvent: CUDAEvent

    init(device: CUDADevice, blas: CUBLAS, capacity: Int, parameters: [Parameter]) throws {
        (self.device, self.blas, self.capacity) = (device, blas, capacity)
        second = try CUDAStream(device)
        secondBlas = try CUBLAS(device, stream: second)
        (forkEvent, joinEvent) = (try CUDAEvent(device), try CUDAEvent(device))
        var total = 0, offsets: [ObjectIdentifier: Int] = [:]
        for parameter in parameters {
            offsets[ObjectIdentifier(parameter)] = total
            total += parameter.count
        }
        self.offsets = offsets
        values = try CUDABuffer(device, count: max(total, 1))
        gradients = try CUDABuffer(device, count: max(total, 1))
    }

    private init(_ plan: CUDAPlan, capacity: Int) {
        (device, blas, self.capacity, values, gradients, offsets) = (plan.device, plan.blas, capacity, plan.values, plan.gradients,
                                                                      plan.offsets)
        (second, secondBlas, forkEvent, joinEvent) = (plan.second, plan.secondBlas, plan.forkEvent, plan.joinEvent)
    }

    /// The same plan (device, streams, parameters and gradients) for batches of `factor` times as
    /// many samples: where a layer runs its own layer on each of a sample's parts as a sample
    /// (``TimeDistributed``'s steps).
    public func scaled(by factor: Int) -> CUDAPlan { CUDAPlan(self, capacity: capacity * factor) }

    private func offset(of parameter: Parameter) -> Int {
        guard let offset = offsets[ObjectIdentifier(parameter)] else { preconditionFailure("\(parameter.name) is not the model's") }
        return offset
    }

    /// The device values of `parameters`, which must follow each other in the model's order (one block).
    public func values(of parameters: Parameter...) -> CUDABuffer { view(of: values, for: parameters) }
    /// Their gradients, as ``values(of:)``.
    public func gradients(of parameters: Parameter...) -> CUDABuffer { view(of: gradients, for: parameters) }

    /// The part of `buffer` (laid out as ``values(of:)``: a per-parameter state) that `parameters` hold.
    func view(of buffer: CUDABuffer, for parameters: [Parameter]) -> CUDABuffer {
        let first = offset(of: parameters[0])
        var end = first
        for parameter in parameters {
            precondition(offset(of: parameter) == end, "\(parameter.name) does not follow the parameter before it")
            end += parameter.count
        }
        return buffer.view(offset: first, count: end - first)
    }

    /// A buffer of `count` values for `samples` samples (the capacity by default).
    public func buffer(perSample count: Int, samples: Int? = nil) throws -> CUDABuffer {
        try CUDABuffer(device, count: max(count * (samples ?? capacity), 1))
    }

    private var ones: CUDABuffer?  // for column sums, as long as the most rows a form sums

    /// Makes room for ``addColumnSums(of:rows:width:into:accumulate:on:)`` over `rows` rows: a form
    /// asks when it is made, so that no pass allocates.
    func reserveColumnSums(rows: Int) throws {
        guard (ones?.count ?? 0) < rows else { return }
        let buffer = try CUDABuffer(device, count: rows)
        try buffer.fill(1)
        ones = buffer
    }

    /// `sums` (+)= the column sums of `x` [rows, width] (a bias's gradient), on `lane`.
    func addColumnSums(of x: CUDABuffer, rows: Int, width: Int, into sums: CUDABuffer, accumulate: Bool = true,
                       on lane: CUDALane = .first) throws {
        guard let ones else { preconditionFailure("reserveColumnSums(rows:) when the form is made") }
        try blas(on: lane).addColumnSums(of: x, rows: rows, width: width, into: sums, ones: ones, accumulate: accumulate)
    }

    /// y = f(z) for `count` values, f an activation's element-wise kernel (``Activation/deviceFunction``).
    func activate(_ function: Int32, _ z: CUDABuffer, into y: CUDABuffer, count: Int) throws {
        try launch("nn_apply_activation", count: count, [.buffer(z), .buffer(y), .int(function), .long(count)])
    }

    /// dz = dy · f′, the derivative taken from the activation's output y (as the CPU's), and its
    /// input x where given (which GELU's and swish's need).
    func activationGradient(_ function: Int32, input x: CUDABuffer? = nil, output y: CUDABuffer, _ dy: CUDABuffer,
                            into dz: CUDABuffer, count: Int) throws {
        guard let x else {
            return try launch("nn_apply_activation_gradient", count: count,
                              [.buffer(y), .buffer(dy), .buffer(dz), .int(function), .long(count)])
        }
        try launch("nn_apply_activation_gradient_from_input", count: count,
                   [.buffer(x), .buffer(y), .buffer(dy), .buffer(dz), .int(function), .long(count)])
    }

    /// Where windows fall on images (a convolution's, a pooling layer's), as the window kernels
    /// read it: 13 ints in device memory (see `nn_kernels.cuh`).
    func deviceCopy(of g: ConvolutionGeometry) throws -> CUDABuffer {
        let values = [g.inputHeight, g.inputWidth, g.channels, g.window.height, g.window.width, g.strides.height,
                      g.strides.width, g.dilation.height, g.dilation.width, g.padTop, g.padLeft, g.outputHeight,
                      g.outputWidth].map { Int32($0) }
        let buffer = try CUDABuffer(device, values)
        try device.synchronize()  // the copy may read `values` until it is done
        return buffer
    }

    /// A kernel of ``CUDAKernels`` over `count` items, in order with the rest of `lane`'s work (no wait).
    public func launch(_ name: String, count: Int, _ arguments: [CUDADevice.Argument], on lane: CUDALane = .first) throws {
        try device.launch(name, count: max(count, 1), arguments, wait: false, on: stream(lane))
    }

    func stream(_ lane: CUDALane) -> OpaquePointer { lane == .first ? device.stream : second.handle }

    /// cuBLAS on `lane`.
    public func blas(on lane: CUDALane) -> CUBLAS { lane == .first ? blas : secondBlas }

    /// A recurrent layer's input side for all steps at once: `input` [batch, steps, features]
    /// gathered time-major into `timeMajor` (processing order, reversed going backwards), then
    /// `projection` [steps · batch, width] = timeMajor · kernel + bias.
    func inputProjection(_ input: CUDABuffer, timeMajor: CUDABuffer, kernel: CUDABuffer, bias: CUDABuffer,
                         into projection: CUDABuffer, width: Int, steps: Int, batch: Int, features: Int, reversed: Bool,
                         on lane: CUDALane) throws {
        let rows = steps * batch
        try launch("nn_gather_time_major", count: rows * features,
                   [.buffer(input), .buffer(timeMajor), .int(Int32(batch)), .int(Int32(steps)), .int(Int32(features)),
                    .int(reversed ? 1 : 0)], on: lane)
        try launch("nn_fill_rows", count: rows * width,
                   [.buffer(projection), .buffer(bias), .int(Int32(rows)), .int(Int32(width))], on: lane)
        try blas(on: lane).multiply(m: rows, n: width, k: features, a: timeMajor, lda: features, b: kernel, ldb: width,
                                    beta: 1, c: projection, ldc: width)
    }

    /// The buffers a recurrent form with one input projection for all steps (GRU, SimpleRNN)
    /// keeps besides its gates: the input time-major, the gradient carried to the step before and
    /// the step's own, the output, the input gradient time-major and batch-major. Makes room for
    /// the biases' column sums too.
    func recurrentBuffers(steps: Int, features: Int, units: Int, returnSequences: Bool) throws
        -> (inputs: CUDABuffer, carried: CUDABuffer, stepGradient: CUDABuffer, output: CUDABuffer,
            timeMajorInputGradient: CUDABuffer, inputGradient: CUDABuffer) {
        try reserveColumnSums(rows: steps * capacity)
        return (try buffer(perSample: steps * features), try buffer(perSample: units), try buffer(perSample: units),
                try buffer(perSample: (returnSequences ? steps : 1) * units), try buffer(perSample: steps * features),
                try buffer(perSample: steps * features))
    }

    /// A recurrent layer's output from its hidden states `states` [steps, batch, units]
    /// (processing order): every step's, batch-major in processing order (as Keras returns a
    /// `go_backwards` layer's), or the last step's.
    func recurrentOutputs(_ states: CUDABuffer, into output: CUDABuffer, steps: Int, batch: Int, units: Int,
                          returnSequences: Bool, on lane: CUDALane) throws {
        guard returnSequences else {
            return try output.copy(from: states, sourceOffset: (steps - 1) * batch * units, count: batch * units,
                                   on: stream(lane))
        }
        try launch("nn_scatter_time_major", count: steps * batch * units,
                   [.buffer(states), .buffer(output), .int(Int32(batch)), .int(Int32(steps)), .int(Int32(units)), .int(0),
                    .int(0)], on: lane)
    }

    /// A recurrent layer's hidden gradient at step `s` of its backward pass, dh_t = what h_t fed
    /// forward (`carried`) + the output's gradient at this step (every step's, or the last's), as
    /// the CPU's `TimeMajor.stepGradient`.
    func stepGradient(_ dh: CUDABuffer, carried: CUDABuffer, outputGradient dy: CUDABuffer, step s: Int, steps: Int,
                      batch: Int, units: Int, returnSequences: Bool, on lane: CUDALane) throws {
        let count = batch * units
        try dh.copy(from: carried, count: count, on: stream(lane))
        if returnSequences {
            try launch("nn_add_step_gradient", count: count,
                       [.buffer(dy), .buffer(dh), .int(Int32(batch)), .int(Int32(steps)), .int(Int32(units)), .int(Int32(s))],
                       on: lane)
        } else if s == steps - 1 {
            try launch("nn_add_values", count: count, [.buffer(dy), .buffer(dh), .long(count)], on: lane)
        }
    }

    /// A recurrent layer's input gradient: the gate gradients `dz` [steps · batch, gateWidth]
    /// times kernelᵀ (kernel [features, gateWidth]) over all steps at once into `workspace`
    /// (time-major, processing order), then batch-major into `dx` (or added to it), the steps
    /// reversed as the layer read them.
    func recurrentInputGradient(_ dz: CUDABuffer, kernel: CUDABuffer, gateWidth: Int, steps: Int, batch: Int,
                                features: Int, reversed: Bool, workspace: CUDABuffer, into dx: CUDABuffer,
                                accumulate: Bool, on lane: CUDALane) throws {
        try blas(on: lane).multiply(transposeB: true, m: steps * batch, n: features, k: gateWidth, a: dz, lda: gateWidth,
                                    b: kernel, ldb: gateWidth, beta: 0, c: workspace, ldc: features)
        try launch("nn_scatter_time_major", count: steps * batch * features,
                   [.buffer(workspace), .buffer(dx), .int(Int32(batch)), .int(Int32(steps)), .int(Int32(features)),
                    .int(reversed ? 1 : 0), .int(accumulate ? 1 : 0)], on: lane)
    }

    /// The second lane's work from now on waits for the first's so far.
    public func fork() throws { try forkEvent.order(second.handle, after: device.stream) }

    /// The first lane's work from now on waits for the second's so far.
    public func join() throws { try joinEvent.order(device.stream, after: second.handle) }
}

/// A ``Sequential`` model run as a whole on the GPU (``CUDABackend``'s ``ModelExecution``):
/// parameters, gradients, the optimizer's slots and every activation in device memory, each layer
/// through its device form; per batch, the inputs and targets go up and the batch's row losses and
/// hits come down. Trains a model that ends in a Dense layer, on class labels, dense targets or
/// label sequences (with ``CUDASequenceLoss``),
/// with a loss that has a device kernel (``CUDALoss``) and an optimizer that has one (``CUDAOptimizer``), clipping
/// gradients by value and by global norm as `fit` asks; runs inference for any model whose layers
/// all have device forms.
final class CUDAModel: ModelExecution {
    let plan: CUDAPlan
    private let layers: CUDAFormSequence
    /// The model's first layer, which checks the values it is given (an Embedding's ids) as on the CPU.
    private let firstLayer: any Layer
    private let parameters: [Parameter]
    /// The last layer, when it is a Dense layer or one on every step (``TimeDistributed``), and
    /// its form, which gives its logits (for `logitsSamples` samples in each of the model's).
    private let lastDense: Dense?
    private let logitsForm: DenseOnDevice?
    private let logitsSamples: Int
    private let sampleSize: Int, outputShape: [Int]
    /// The rows of each sample's outputs that a loss sees: one, or one per step (a Dense layer on
    /// a sequence), each of `outputShape.last` values.
    private let outputRows: Int
    /// A batch's class labels or its samples' indices, and its dense targets (rows of the outputs' shape).
    private let input: CUDABuffer, labels: CUDABuffer, indices: CUDABuffer, targets: CUDABuffer
    /// The last layer's outputs (its activation of the logits), their gradient and the logits'.
    private let outputs: CUDABuffer, outputGradient: CUDABuffer, logitsGradient: CUDABuffer
    /// A step's results, one copy to the host: the row losses, the hits (ints), the non-finite flag.
    private let results: CUDABuffer, rowLosses: CUDABuffer, hits: CUDABuffer, nonfinite: CUDABuffer
    /// Written before each step: the optimizer's settings (``CUDAOptimizer/cudaSettings``), then
    /// the clipping limits, by value and by norm, then the loss's settings (``CUDALoss/cudaSettings``).
    private let settings: CUDABuffer, optimizerSettings: CUDABuffer, clipValue: CUDABuffer, clipNorm: CUDABuffer
    private let lossSettings: CUDABuffer
    private static let settingsCount = CUDAOptimizerSettings.capacity + 2 + CUDALossSettings.capacity
    /// The optimizer's slots, each laid out as the parameters (``CUDAPlan/values``).
    private let slots: [CUDABuffer]
    /// Clipping by norm: the sums of squares of the gradients' blocks (doubles), then the factor.
    private let squareSums: CUDABuffer, clipScale: CUDABuffer
    private var hostResults: [Float]  // `results` come down (hits and flag as the bits of ints)
    private var hostIntegers: [Int32]  // a batch's labels or sample indices, on their way up
    /// Page-locked: a batch's inputs, then its labels or indices, then its dense targets, then the
    /// step's settings, on their way up (written again only after the last step's results have come down).
    private let pinned: CUDAHostBuffer
    private let labelsAt: Int, targetsAt: Int, settingsAt: Int  // where each part starts in `pinned`
    /// Label sequences (outputs [steps, width]): each sample's count and labels, steps + 1 ints
    /// (packed in `hostSequences`, up through the dense targets' part of `pinned`), and the
    /// sequence loss's workspace, made at its first step.
    private let sequences: CUDABuffer?
    private var hostSequences: [Int32]
    private var sequenceWorkspace: CUDABuffer?
    /// Each kind of training step (``StepKind``), recorded as a CUDA graph after one run without
    /// (the warm-up: kernels load and cuBLAS chooses its own outside the recording); nil where
    /// recording failed, and that kind runs call by call.
    private var recordedSteps: [StepKind: CUDAGraph?] = [:]
    /// Whether training steps are recorded and replayed (CUDA graphs) or enqueued call by call.
    var recordsSteps = true
    /// Why recording a step failed, if it did (the steps then run call by call).
    private(set) var recordingFailure: Error?
    /// Training steps this model has taken on the device (what shows that a run trained here and
    /// not on the host path).
    private(set) var stepsTaken = 0

    var capacity: Int { plan.capacity }
    /// Every recurrent layer's precision (nested ones too) when the forms were made: they and their
    /// recordings keep it.
    let precisions: [Precision]
    /// What the forms prepare each pass with: the model's random streams (those a checkpoint
    /// saves), training or not.
    private let trainingContext: ForwardContext, inferenceContext: ForwardContext

    /// Nil when a layer has no device form.
    init?(model: Sequential, device: CUDADevice, blas: CUBLAS, capacity: Int) throws {
        guard let inputShape = model.inputShape, let firstLayer = model.layers.first else { return nil }
        self.firstLayer = firstLayer
        (parameters, precisions) = (model.parameters, Self.precisions(of: model))
        trainingContext = ForwardContext(training: true, streams: model.randomStreams)
        inferenceContext = ForwardContext(training: false, streams: model.randomStreams)
        plan = try CUDAPlan(device: device, blas: blas, capacity: capacity, parameters: parameters)
        guard let layers = try CUDAFormSequence(model.layers, outputShapes: model.layerOutputShapes, inputShape: inputShape,
                                                plan: plan) else { return nil }
        self.layers = layers
        let distributed = layers.forms.last as? TimeDistributedOnDevice
        lastDense = model.layers.last as? Dense ?? (model.layers.last as? TimeDistributed)?.layer as? Dense
        logitsForm = layers.forms.last as? DenseOnDevice ?? distributed?.inner as? DenseOnDevice
        logitsSamples = distributed?.steps ?? 1
        logitsForm?.producesLogits = true  // the loss (or, in inference, `forward`) applies the activation
        sampleSize = inputShape.reduce(1, *)
        outputShape = model.outputShape
        let width = outputShape.reduce(1, *)
        outputRows = width / max(outputShape.last ?? 1, 1)
        input = try plan.buffer(perSample: sampleSize)
        labels = try plan.buffer(perSample: 1)
        indices = try plan.buffer(perSample: 1)
        targets = try plan.buffer(perSample: width)
        outputs = try plan.buffer(perSample: width)
        outputGradient = try plan.buffer(perSample: width)
        logitsGradient = try plan.buffer(perSample: width)
        let lossRows = capacity * outputRows
        results = try CUDABuffer(device, count: lossRows + capacity + 1)
        (rowLosses, hits) = (results.view(offset: 0, count: lossRows), results.view(offset: lossRows, count: capacity))
        nonfinite = results.view(offset: lossRows + capacity, count: 1)
        settings = try plan.buffer(perSample: Self.settingsCount, samples: 1)
        optimizerSettings = settings.view(offset: 0, count: CUDAOptimizerSettings.capacity)
        clipValue = settings.view(offset: CUDAOptimizerSettings.capacity, count: 1)
        clipNorm = settings.view(offset: CUDAOptimizerSettings.capacity + 1, count: 1)
        lossSettings = settings.view(offset: CUDAOptimizerSettings.capacity + 2, count: CUDALossSettings.capacity)
        let slotCount = plan.values.count
        slots = try (0..<CUDAOptimizerSettings.slots).map { _ in
            let slot = try CUDABuffer(device, count: slotCount)
            try slot.fill(0)  // zero state until an optimizer's is loaded
            return slot
        }
        // Enough for any runs of trainable parameters (a run takes no more blocks than its parameters would).
        squareSums = try CUDABuffer(device, count: 2 * max(parameters.reduce(0) { $0 + Self.squareBlocks($1.count) }, 1))
        clipScale = try CUDABuffer(device, count: 1)
        hostResults = [Float](repeating: 0, count: results.count)
        hostIntegers = [Int32](repeating: 0, count: capacity)
        (labelsAt, targetsAt) = (capacity * sampleSize, capacity * (sampleSize + 1))
        settingsAt = targetsAt + capacity * width
        pinned = try CUDAHostBuffer(device, count: settingsAt + Self.settingsCount)
        // Fits the dense targets' part of `pinned` (steps · width ≥ steps + 1 with two outputs or more).
        let sequenceSize = outputShape.count == 2 && outputShape[1] >= 2 ? outputShape[0] + 1 : 0
        sequences = sequenceSize > 0 ? try plan.buffer(perSample: sequenceSize) : nil
        hostSequences = [Int32](repeating: 0, count: capacity * sequenceSize)
    }

    static func precisions(of model: Sequential) -> [Precision] {
        model.walkedLayers.compactMap { ($0.layer as? any RecurrentLayer)?.precision }
    }

    /// Whether the plan was made for these parameters (a model built again has new ones).
    func holds(_ parameters: [Parameter]) -> Bool {
        parameters.count == self.parameters.count && zip(parameters, self.parameters).allSatisfy { $0 === $1 }
    }

    func load(optimizer: (any Optimizer)?) throws {
        try plan.device.makeCurrent()
        for parameter in parameters {
            try plan.values(of: parameter).upload(parameter.values, count: parameter.count)
        }
        for (slot, name, parameter) in slotBlocks(of: optimizer) {
            try slot.upload(optimizer!.state.slot(name, for: parameter), count: parameter.count)
        }
    }

    func store(optimizer: (any Optimizer)?) throws {
        try plan.device.makeCurrent()
        for parameter in parameters {
            try plan.values(of: parameter).download(into: parameter.values, count: parameter.count)
        }
        for (slot, name, parameter) in slotBlocks(of: optimizer) {
            try slot.download(into: optimizer!.state.slot(name, for: parameter), count: parameter.count)
        }
    }

    /// Each trainable parameter's part of each slot the device keeps for `optimizer`, with the
    /// slot's name (none without an optimizer the device updates).
    private func slotBlocks(of optimizer: (any Optimizer)?) -> [(CUDABuffer, String, Parameter)] {
        guard let optimizer = optimizer as? any CUDAOptimizer else { return [] }
        return zip(slots, type(of: optimizer).slotNames).flatMap { slot, name in
            parameters.filter(\.isTrainable).map { (plan.view(of: slot, for: [$0]), name, $0) }
        }
    }

    func canTrain(loss: Loss, optimizer: any Optimizer) -> Bool {
        (loss.function is any CUDALoss || (loss.function is any CUDASequenceLoss && sequences != nil)) && optimizer is any CUDAOptimizer
            && type(of: optimizer).slotNames.count <= CUDAOptimizerSettings.slots && logitsForm != nil
    }

    /// What a training step enqueues, beyond its batch's data: steps of one kind are recorded once.
    private struct StepKind: Hashable {
        let batch: Int
        let loss: String, fused: Bool, dense: Bool  // dense targets, or class labels
        let sequences: Bool, options: Int32  // label sequences, and their loss's options
        let optimizer: String
        let clipsValues: Bool, clipsNorm: Bool
        let trainable: [Bool]  // each parameter's: which are updated
    }

    /// How many blocks of 256 values `nn_block_squares` sums `count` values in.
    private static func squareBlocks(_ count: Int) -> Int { (count + 255) / 256 }

    /// Whether ``stage(_:)`` keeps data sets on the device (true), or batches always come from host memory.
    var stagesData = true

    /// Stages `data` when its samples and labels take at most a quarter of the device's memory.
    func stage(_ data: Dataset) throws -> (any StagedData)? {
        guard stagesData, case .classes(let classes) = data.targets, data.sequenceLengths == nil,
              data.sampleShape.reduce(1, *) == sampleSize, data.count > 0,
              data.count.multipliedReportingOverflow(by: 4 * (sampleSize + 1)).partialValue <= plan.device.totalMemory / 4
        else { return nil }
        try plan.device.makeCurrent()
        let staged = CUDAStagedData(count: data.count, samples: try CUDABuffer(plan.device, count: data.count * sampleSize),
                                    labels: try CUDABuffer(plan.device, classes.map(Int32.init)))
        var start = 0
        while start < data.count {  // converted and copied in chunks: the host never holds all as floats
            let end = min(start + 4096, data.count)
            let chunk = try data.batch(start..<end).inputs
            do { try firstLayer.checkInput(chunk) } catch let error as ShapeError {
                throw ShapeError("\(error.description) (in samples \(start)..<\(end) of the data)")
            }
            try chunk.scalars.withUnsafeBytes {
                try staged.samples.view(offset: start * sampleSize, count: chunk.count).upload($0.baseAddress!, count: chunk.count)
                try plan.device.synchronize()  // the copy may read the chunk until it is done
            }
            start = end
        }
        return staged
    }

    /// Puts a batch's inputs (and targets) into the plan's input buffers: its sample count.
    private func load(_ batch: ExecutionBatch) throws -> Int {
        try plan.device.makeCurrent()
        switch batch {
        case .host(let inputs, let batchTargets):
            let count = inputs.shape[0]
            precondition(count <= capacity && inputs.count == count * sampleSize,
                         "a batch of \(inputs.shape) for a plan of \(capacity) samples of \(sampleSize) values")
            try inputs.scalars.withUnsafeBufferPointer { try pinned.upload($0, into: input) }
            switch batchTargets {
            case .classes(let batchLabels):
                precondition(batchLabels.count == count, "\(batchLabels.count) labels for \(count) samples")
                for (row, label) in batchLabels.enumerated() { hostIntegers[row] = Int32(label) }
                try hostIntegers[0..<count].withUnsafeBufferPointer { try pinned.upload($0, at: labelsAt, into: labels) }
            case .dense(let values):
                precondition(values.count == count * outputRows * outputShape.last!,
                             "targets \(values.shape) for \(count) samples of outputs \(outputShape)")
                try values.scalars.withUnsafeBufferPointer { try pinned.upload($0, at: targetsAt, into: targets) }
            case .sequences, nil:  // sequences: packed by the training step, which knows their loss
                break
            }
            return count
        case .staged(let data, let samples):
            guard let data = data as? CUDAStagedData else { preconditionFailure("data staged by another execution") }
            precondition(samples.count <= capacity && samples.allSatisfy { (0..<data.count).contains($0) },
                         "\(samples.count) samples for a plan of \(capacity), of \(data.count)")
            for (row, sample) in samples.enumerated() { hostIntegers[row] = Int32(sample) }
            try hostIntegers[0..<samples.count].withUnsafeBufferPointer {
                try pinned.upload($0, at: labelsAt, into: indices)
            }
            try plan.launch("nn_gather_samples", count: samples.count * sampleSize,
                            [.buffer(data.samples), .buffer(data.labels), .buffer(indices), .buffer(input), .buffer(labels),
                             .int(Int32(samples.count)), .int(Int32(sampleSize))])
            return samples.count
        }
    }

    /// The forms' forward passes: the last layer's logits where it is a Dense layer.
    private func forwardPass(batch: Int) throws -> CUDABuffer {
        try layers.forward(input, batch: batch)
    }

    func trainStep(_ samples: ExecutionBatch, loss: Loss, optimizer: any Optimizer, clipNorm: Float?, clipValue: Float?,
                   epoch: Int, batch index: Int) throws -> (loss: Float, correct: Int) {
        guard let deviceOptimizer = optimizer as? any CUDAOptimizer, let lastDense,
              let lossKernel = (loss.function as? any CUDALoss).map({ type(of: $0).cudaKernel })
                ?? (loss.function as? any CUDASequenceLoss).map({ type(of: $0).cudaKernel })
        else { preconditionFailure("check canTrain first") }
        if case .host(_, nil) = samples { preconditionFailure("a training batch needs its targets") }
        // Evaluation and prediction check their host batches before they come here; staged data
        // was checked as it went up.
        if case .host(let inputs, _) = samples { try firstLayer.checkInput(inputs) }
        var (dense, sequenced, options) = (false, false, Int32(0))
        if case .host(_, .dense?) = samples { dense = true }
        let batch = try load(samples)
        if case .host(_, .sequences(let labelSequences)) = samples {
            guard let sequenceLoss = loss.function as? any CUDASequenceLoss else {
                preconditionFailure("label sequences need a sequence loss")
            }
            (sequenced, options) = (true, try loadSequences(labelSequences, loss: sequenceLoss))
        } else {
            precondition(dense || outputRows == 1, "class labels for outputs of \(outputShape): one label per output row")
        }
        let optimizerValues = deviceOptimizer.cudaSettings
        precondition(optimizerValues.count <= CUDAOptimizerSettings.capacity, "\(optimizer.typeName) has too many settings")
        let lossValues = (loss.function as? any CUDALoss).map { CUDALossSettings.padded($0.cudaSettings, of: loss.typeName) }
            ?? CUDALossSettings.padded([], of: loss.typeName)
        let stepSettings = optimizerValues + [Float](repeating: 0, count: CUDAOptimizerSettings.capacity - optimizerValues.count)
            + [clipValue ?? 0, clipNorm ?? 0] + lossValues
        try stepSettings.withUnsafeBufferPointer { try pinned.upload($0, at: settingsAt, into: settings) }
        let kind = StepKind(batch: batch, loss: lossKernel, fused: loss.fusedActivation == lastDense.activation,
                            dense: dense, sequences: sequenced, options: options,
                            optimizer: type(of: deviceOptimizer).cudaKernel, clipsValues: clipValue != nil,
                            clipsNorm: clipNorm != nil, trainable: parameters.map(\.isTrainable))
        try layers.prepare(batch: batch, context: trainingContext)
        try runStep(kind)
        // The copy to the host waits for the step: the first sign of a failed kernel is here.
        try hostResults.withUnsafeMutableBytes { try results.download(into: $0.baseAddress!, count: results.count) }
        let rows = batch * outputRows
        let value = Float(hostResults[0..<rows].reduce(0.0) { $0 + Double($1) } / Double(rows))
        // The step skipped its update (the flag): the parameters are as they were.
        guard value.isFinite else { throw TrainingError(epoch: epoch, batch: index, location: "loss") }
        if hostResults[results.count - 1].bitPattern != 0 {
            throw TrainingError(epoch: epoch, batch: index, location: try firstNonfiniteGradient())
        }
        optimizer.iterations += 1
        stepsTaken += 1
        if dense || sequenced { return (value, 0) }
        let hitsAt = capacity * outputRows
        return (value, hostResults[hitsAt..<(hitsAt + batch)].reduce(0) { $0 + Int(Int32(bitPattern: $1.bitPattern)) })
    }

    /// Packs a batch's label sequences for `loss`'s kernel (count, then output indices; −1 for more
    /// labels than steps) and sends them up, making the workspace at the first; the kernel's options.
    private func loadSequences(_ labelSequences: [[Int]], loss: any CUDASequenceLoss) throws -> Int32 {
        guard let sequences else { preconditionFailure("label sequences need outputs [steps, classes + 1]") }
        let (steps, width) = (outputShape[0], outputShape[1])
        precondition(labelSequences.count <= capacity, "\(labelSequences.count) label sequences for a plan of \(capacity)")
        loss.pack(labelSequences, steps: steps, width: width, into: &hostSequences)
        try hostSequences[0..<(labelSequences.count * (steps + 1))].withUnsafeBufferPointer {
            try pinned.upload($0, at: targetsAt, into: sequences)
        }
        if sequenceWorkspace == nil {  // doubles, two floats each
            sequenceWorkspace = try CUDABuffer(plan.device, count: 2 * capacity * type(of: loss).cudaWorkspace(steps: steps, width: width))
        }
        return loss.cudaOptions(width: width)
    }

    /// A step of `kind`: replayed when recorded, recorded on its second run, enqueued call by
    /// call otherwise.
    private func runStep(_ kind: StepKind) throws {
        guard recordsSteps, recordingFailure == nil, let recorded = recordedSteps[kind] else {
            try enqueueStep(kind)
            if recordsSteps, recordingFailure == nil { recordedSteps[kind] = .some(nil) }  // recorded next time
            return
        }
        if let graph = recorded {
            try graph.launch()
            return
        }
        do {
            let graph = try CUDAGraph(recording: plan.device) { try enqueueStep(kind) }
            recordedSteps[kind] = graph
            try graph.launch()
        } catch {
            recordingFailure = error
            try enqueueStep(kind)
        }
    }

    /// Everything a training step does on the device, in order, without waiting: the passes, the
    /// loss and hits, the check for values that are not finite (losses and gradients), the
    /// clipping, and the optimizer's update, which that check's flag skips. Nothing here reads
    /// host memory: what changes between batches (inputs, labels, learning rate) is in device buffers.
    private func enqueueStep(_ kind: StepKind) throws {
        let (batch, width) = (kind.batch, outputShape.last!), rows = batch * outputRows
        try plan.gradients.fill(0)
        try nonfinite.fill(0)
        let logits = try forwardPass(batch: batch)
        let last = logitsForm!, linear = lastDense!.activation == .linear
        try last.activate(logits, into: outputs, batch: batch * logitsSamples)
        // Fused, the loss's gradient is the logits'; else the outputs', through the activation after.
        let lossGradient = kind.fused || linear ? logitsGradient : outputGradient
        if kind.sequences, let sequences, let sequenceWorkspace {
            try plan.launch(kind.loss, count: batch,
                            [.buffer(kind.fused ? logits : outputs), .buffer(sequences), .buffer(rowLosses), .buffer(lossGradient),
                             .buffer(sequenceWorkspace), .int(Int32(batch)), .int(Int32(outputRows)), .int(Int32(width)),
                             .int(kind.fused ? 1 : 0), .int(kind.options)])
        } else {
            try plan.launch(kind.loss, count: rows,
                            [.buffer(kind.fused ? logits : outputs), .buffer(labels), .buffer(targets), .int(kind.dense ? 1 : 0),
                             .buffer(rowLosses), .buffer(lossGradient), .int(Int32(rows)), .int(Int32(width)),
                             .int(kind.fused ? 1 : 0), .buffer(lossSettings)])
        }
        if !kind.fused && !linear {
            try last.activationGradient(output: outputs, outputGradient, into: logitsGradient, batch: batch * logitsSamples)
        }
        if !kind.dense && !kind.sequences {
            try plan.launch("nn_correct_classes", count: batch,
                            [.buffer(outputs), .buffer(labels), .buffer(hits), .int(Int32(batch)), .int(Int32(width))])
        }
        _ = try layers.backward(logitsGradient, batch: batch)
        // From here on, as the CPU's update: the trainable parameters only, each run of neighbours
        // one block of the flat buffers (one launch for all of them where all train).
        let runs = trainableRuns()
        for values in [rowLosses.view(offset: 0, count: rows)] + runs.map({ plan.view(of: plan.gradients, for: $0) }) {
            try plan.launch("nn_find_nonfinite", count: values.count, [.buffer(values), .buffer(nonfinite), .long(values.count)])
        }
        if kind.clipsValues {
            for run in runs {
                let gradients = plan.view(of: plan.gradients, for: run)
                try plan.launch("nn_clip_values", count: gradients.count,
                                [.buffer(gradients), .buffer(clipValue), .buffer(nonfinite), .long(gradients.count)])
            }
        }
        if kind.clipsNorm { try clipByNorm(runs) }
        for run in runs {
            let values = plan.view(of: plan.values, for: run)
            try plan.launch(kind.optimizer, count: values.count, CUDAOptimizerSettings.arguments(
                parameter: values, gradient: plan.view(of: plan.gradients, for: run), slots: slots.map { plan.view(of: $0, for: run) },
                settings: optimizerSettings, skip: nonfinite, count: values.count))
        }
    }

    /// The trainable parameters in runs of neighbours (in the model's order, so each run is one
    /// block of the flat buffers).
    private func trainableRuns() -> [[Parameter]] {
        var runs: [[Parameter]] = [], current: [Parameter] = []
        for parameter in parameters {
            if parameter.isTrainable {
                current.append(parameter)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        return current.isEmpty ? runs : runs + [current]
    }

    /// Scales the gradients of the parameters in `runs` so that their global norm is at most the
    /// limit, as the CPU's `GradientNorm.clip(_:maxNorm:squaredNorms:)`: sums of squares by blocks,
    /// their total and the factor in one thread, then the product.
    private func clipByNorm(_ runs: [[Parameter]]) throws {
        var blocks = 0
        for run in runs {
            let gradients = plan.view(of: plan.gradients, for: run), count = Self.squareBlocks(gradients.count)
            try plan.launch("nn_block_squares", count: count,  // doubles: two floats each
                            [.buffer(gradients), .buffer(squareSums.view(offset: 2 * blocks, count: 2 * count)),
                             .long(gradients.count)])
            blocks += count
        }
        try plan.launch("nn_clip_norm_scale", count: 1,
                        [.buffer(squareSums), .int(Int32(blocks)), .buffer(clipNorm), .buffer(clipScale)])
        for run in runs {
            let gradients = plan.view(of: plan.gradients, for: run)
            try plan.launch("nn_scale_by", count: gradients.count,
                            [.buffer(gradients), .buffer(clipScale), .buffer(nonfinite), .long(gradients.count)])
        }
    }

    /// The name of the first trainable parameter whose gradient has a value that is not finite.
    private func firstNonfiniteGradient() throws -> String {
        for parameter in parameters where parameter.isTrainable {
            let values = try plan.gradients(of: parameter).download()
            if values.contains(where: { !$0.isFinite }) { return parameter.name }
        }
        return "a parameter"
    }

    func forward(_ samples: ExecutionBatch) throws -> (outputs: Tensor, logits: Tensor?) {
        let batch = try load(samples)
        let width = outputShape.reduce(1, *)
        try layers.prepare(batch: batch, context: inferenceContext)
        let output = try forwardPass(batch: batch)
        var logits = Tensor(zeros: [batch] + outputShape)
        try logits.scalars.withUnsafeMutableBytes { try output.download(into: $0.baseAddress!, count: batch * width) }
        guard let lastDense else { return (logits, nil) }
        guard lastDense.activation != .linear else { return (logits, logits) }
        try logitsForm!.activate(output, into: outputs, batch: batch * logitsSamples)
        var activated = Tensor(zeros: [batch] + outputShape)
        try activated.scalars.withUnsafeMutableBytes { try outputs.download(into: $0.baseAddress!, count: batch * width) }
        return (activated, logits)
    }
}

/// A data set's samples (as floats) and class labels in device memory.
final class CUDAStagedData: StagedData {
    let count: Int
    let samples: CUDABuffer, labels: CUDABuffer
    init(count: Int, samples: CUDABuffer, labels: CUDABuffer) { (self.count, self.samples, self.labels) = (count, samples, labels) }
}
