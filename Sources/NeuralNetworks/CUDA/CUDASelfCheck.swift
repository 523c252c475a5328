import Foundation

/// Every GPU kernel and the cuBLAS product against the CPU path on the same random inputs
/// (`nn cuda --check`, and `scripts/device-check.sh` on a lent GPU): the largest difference of
/// each, which must stay within `tolerance` (1e-4 in float32, the CUDA issue's bar).
public enum CUDASelfCheck {
    public struct Result: Sendable {
        public let name: String
        public let maximumDifference: Float
        public let tolerance: Float
        public var passed: Bool { maximumDifference <= tolerance }
    }

    static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    /// Every loss of the standard registry with a device kernel, with its default settings, then
    /// each of its ``CUDALoss/checkedVariants``, named as a loss spec would write it.
    static func deviceLosses() -> [(loss: any CUDALoss, name: String)] {
        let registry = ModuleRegistry.standard
        return registry.lossTypes.flatMap { type -> [(loss: any CUDALoss, name: String)] in
            guard let loss = (try? registry.decoder().decode(Loss.self, from: Data(#"{"type":"\#(type)"}"#.utf8)))?.function
                    as? any CUDALoss else { return [] }
            return [(loss, type)] + Swift.type(of: loss).checkedVariants.map { ($0, Loss($0).specText) }
        }
    }

    /// `activation` of each row of `x` [rows, width], as the CPU's layers apply it.
    static func activated(_ x: Tensor, _ activation: Activation) -> Tensor {
        let width = x.shape.last!
        var y = x
        x.scalars.withUnsafeBufferPointer { x in
            y.scalars.withUnsafeMutableBufferPointer { y in
                activation.forward(x.baseAddress!, y.baseAddress!, rows: x.count / width, width: width)
            }
        }
        return y
    }

    public static func run(_ device: CUDADevice, tolerance: Float = 1e-4, seed: UInt64 = 7) throws -> [Result] {
        try device.loadKernels()
        var generator = RandomGenerator(seed: seed)
        func random(_ count: Int, scale: Double = 1) -> [Float] {
            (0..<count).map { _ in Float((generator.nextUnitDouble() * 2 - 1) * scale) }
        }
        let cpu = CPUBackend()
        var results: [Result] = []
        func record(_ name: String, _ gpu: [Float], _ expected: [Float]) {
            results.append(Result(name: name, maximumDifference: largestDifference(gpu, expected), tolerance: tolerance))
        }
        let (rows, units) = (37, 45)
        for gate in [Activation.hardSigmoid, .sigmoid] {
            let step = LSTMStep(gate: gate, activation: .tanh, rows: rows, units: units)
            let gates = random(rows * 4 * units, scale: 3), previous = random(rows * units)
            // CPU: forward, then backward from random dh and dc.
            var cpuGates = gates, cell = [Float](repeating: 0, count: rows * units)
            var cellActivation = cell, hidden = cell
            cpu.lstmStepForward(step, gates: &cpuGates, previousCell: previous, cell: &cell, cellActivation: &cellActivation,
                                hidden: &hidden, hiddenStride: units)
            let activated = cpuGates
            let dh = random(rows * units), dcAfter = random(rows * units)
            var dc = dcAfter
            cpu.lstmStepBackward(step, gates: &cpuGates, previousCell: previous, cellActivation: cellActivation, dh: dh, dc: &dc)
            // GPU: the same two steps.
            let g = try CUDABuffer(device, gates), p = try CUDABuffer(device, previous)
            let c = try CUDABuffer(device, count: rows * units), a = try CUDABuffer(device, count: rows * units)
            let h = try CUDABuffer(device, count: rows * units)
            try device.launch("nn_lstm_step_forward", count: rows * units,
                              [.buffer(g), .buffer(p), .buffer(c), .buffer(a), .buffer(h), .int(Int32(units)), .int(Int32(rows)),
                               .int(Int32(units)), .int(gate.vectorFunction!), .int(Activation.tanh.vectorFunction!)])
            record("lstm step forward (\(gate.rawValue)): gates", try g.download(), activated)
            record("lstm step forward (\(gate.rawValue)): cell", try c.download(), cell)
            record("lstm step forward (\(gate.rawValue)): hidden", try h.download(), hidden)
            let hGradient = try CUDABuffer(device, dh), cGradient = try CUDABuffer(device, dcAfter)
            try device.launch("nn_lstm_step_backward", count: rows * units,
                              [.buffer(g), .buffer(p), .buffer(a), .buffer(hGradient), .buffer(cGradient), .int(Int32(rows)),
                               .int(Int32(units)), .int(gate.vectorFunction!), .int(Activation.tanh.vectorFunction!)])
            record("lstm step backward (\(gate.rawValue)): gate gradients", try g.download(), cpuGates)
            record("lstm step backward (\(gate.rawValue)): carried cell gradient", try cGradient.download(), dc)
        }

        // Each device loss of the registry, with its defaults and its checked variants, fused with
        // its activation and not, on class labels (many classes and one output) and on dense
        // targets (soft labels in [0, 1]).
        for (loss, lossName) in Self.deviceLosses() {
            for (classes, dense) in [(10, false), (1, false), (10, true)] where classes > 1 || !(loss is CategoricalCrossEntropy) {
                for fused in [true, false] where loss.fusedActivation != nil || !fused {
                    let batch = 53
                    let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(max(classes, 2))) }
                    let values = random(batch * classes).map { abs($0) }
                    let targets: Targets = dense ? .dense(Tensor(shape: [batch, classes], scalars: values)) : .classes(labels)
                    // Unfused, outputs of the activation (probabilities, where the loss takes those).
                    var outputs = Tensor(shape: [batch, classes], scalars: random(batch * classes, scale: 4))
                    if !fused { outputs = activated(outputs, loss.fusedActivation ?? .sigmoid) }
                    let (value, gradient) = fused ? loss.valueAndGradient(logits: outputs, targets: targets)
                        : loss.valueAndGradient(predictions: outputs, targets: targets)
                    let z = try CUDABuffer(device, outputs.scalars), y = try CUDABuffer(device, labels.map(Int32.init))
                    let t = try CUDABuffer(device, values)
                    let rowLoss = try CUDABuffer(device, count: batch), dz = try CUDABuffer(device, count: batch * classes)
                    let settings = try CUDABuffer(device, CUDALossSettings.padded(loss.cudaSettings, of: type(of: loss).typeName))
                    try device.launch(type(of: loss).cudaKernel, count: batch,
                                      [.buffer(z), .buffer(y), .buffer(t), .int(dense ? 1 : 0), .buffer(rowLoss), .buffer(dz),
                                       .int(Int32(batch)), .int(Int32(classes)), .int(fused ? 1 : 0), .buffer(settings)])
                    let what = dense ? "soft targets" : classes == 1 ? "labels, one output" : "labels"
                    let name = "\(lossName) (\(what), from \(fused ? "logits" : "outputs"))"
                    record("\(name): mean loss", [try rowLoss.download().reduce(0, +) / Float(batch)], [value])
                    record("\(name): gradient", try dz.download(), gradient.scalars)
                }
            }
        }

        // CTC on label sequences from logits, and from outputs with one sequence too long for the steps.
        for (loss, fused) in [(CTCLoss(), true), (CTCLoss(blank: 0, reduction: .sumOverBatch, zeroInfinity: true), false)] {
            let (batch, steps, width) = (7, 12, 6)
            let sequences = (0..<batch).map { b in
                b == 3 && loss.zeroInfinity ? [Int](repeating: 1, count: 13) : (0...(b % 4)).map { (b + 2 * $0) % 5 }
            }
            var outputs = Tensor(shape: [batch, steps, width], scalars: random(batch * steps * width, scale: 3))
            if !fused { outputs = activated(outputs, .softmax) }
            let (value, gradient) = fused ? loss.valueAndGradient(logits: outputs, targets: .sequences(sequences))
                : loss.valueAndGradient(predictions: outputs, targets: .sequences(sequences))
            var packed = [Int32](repeating: 0, count: batch * (steps + 1))
            loss.pack(sequences, steps: steps, width: width, into: &packed)
            let z = try CUDABuffer(device, outputs.scalars), labels = try CUDABuffer(device, packed)
            let rowLoss = try CUDABuffer(device, count: batch * steps), dz = try CUDABuffer(device, count: batch * steps * width)
            let work = try CUDABuffer(device, count: 2 * batch * CTCLoss.cudaWorkspace(steps: steps, width: width))
            try device.launch(CTCLoss.cudaKernel, count: batch,
                              [.buffer(z), .buffer(labels), .buffer(rowLoss), .buffer(dz), .buffer(work), .int(Int32(batch)),
                               .int(Int32(steps)), .int(Int32(width)), .int(fused ? 1 : 0), .int(loss.cudaOptions(width: width))])
            let name = "ctc (\(fused ? "from logits" : "from outputs, blank first, summed, zero_infinity"))"
            record("\(name): mean loss", [try rowLoss.download().reduce(0, +) / Float(batch * steps)], [value])
            record("\(name): gradient", try dz.download(), gradient.scalars)
        }

        let (width, count) = (29, 41)
        let bias = random(width), matrix = random(count * width)
        var filled = [Float](repeating: 0, count: count * width), sums = random(width)
        let sumsBefore = sums
        cpu.fillRows(&filled, rows: count, width: width, with: bias)
        cpu.addColumnSums(of: matrix, rows: count, width: width, into: &sums)
        let m = try CUDABuffer(device, count: count * width), v = try CUDABuffer(device, bias)
        try device.launch("nn_fill_rows", count: count * width, [.buffer(m), .buffer(v), .int(Int32(count)), .int(Int32(width))])
        record("bias rows", try m.download(), filled)
        let source = try CUDABuffer(device, matrix), total = try CUDABuffer(device, sumsBefore)
        let ones = try CUDABuffer(device, [Float](repeating: 1, count: count))
        try CUBLAS(device).addColumnSums(of: source, rows: count, width: width, into: total, ones: ones)
        try device.synchronize()
        record("column sums (a product by ones)", try total.download(), sums)

        // Each device optimizer, 3 updates of one parameter from random gradients, the last skipped.
        let optimizers: [(String, () -> any CUDAOptimizer)] = [
            ("SGD", { SGD(learningRate: 0.1) }), ("SGD, momentum 0.9", { SGD(learningRate: 0.1, momentum: 0.9) }),
            ("SGD, Nesterov, weight decay", { SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01) }),
            ("Adam", { Adam(learningRate: 0.01, weightDecay: 0.01) }), ("AdamW", { Adam.adamW(learningRate: 0.01) }),
            ("RMSprop, momentum 0.5", { RMSprop(learningRate: 0.01, momentum: 0.5, weightDecay: 0.01) }),
            ("Adagrad, initial accumulator 0.1", { Adagrad(learningRate: 0.1, initialAccumulator: 0.1) }),
        ]
        for (name, make) in optimizers {
            let optimizer = make(), count = 1000
            let parameter = Parameter(name: "w", shape: [count])
            parameter.tensor = Tensor(shape: [count], scalars: random(count))
            let w = try CUDABuffer(device, parameter.tensor.scalars)
            let slots = try type(of: optimizer).slotNames.map { _ in try CUDABuffer(device, [Float](repeating: 0, count: count)) }
            for skipped in [false, false, true] {
                let g = random(count)
                let settings = try CUDABuffer(device, optimizer.cudaSettings), skip = try CUDABuffer(device, [skipped ? 1 : 0] as [Int32])
                if !skipped {
                    parameter.gradients.update(from: g, count: g.count)
                    optimizer.update([parameter], threads: 1)
                }
                try device.launch(type(of: optimizer).cudaKernel, count: count, CUDAOptimizerSettings.arguments(
                    parameter: w, gradient: try CUDABuffer(device, g), slots: slots, settings: settings, skip: skip, count: count))
            }
            record("\(name): 2 updates and a skipped one", try w.download(), parameter.tensor.scalars)
            for (slot, slotName) in zip(slots, type(of: optimizer).slotNames) {
                record("\(name): its \(slotName)", try slot.download(), optimizer.state.values(slotName, for: parameter))
            }
        }

        // Clipping by value and by norm, as the CPU's (four parameters' gradients, one norm).
        let clipped = (0..<4).map { index in
            let parameter = Parameter(name: "p\(index)", shape: [300 + 250 * index])
            parameter.gradients.update(from: random(parameter.count, scale: 2), count: parameter.count)
            return parameter
        }
        let gradients = try clipped.map { try CUDABuffer(device, Array(UnsafeBufferPointer(start: $0.gradients, count: $0.count))) }
        GradientNorm.clip(clipped, maxValue: 1.5)
        GradientNorm.clip(clipped, maxNorm: 3, squaredNorms: GradientNorm.squaredNorms(clipped))
        let limits = try CUDABuffer(device, [1.5, 3] as [Float]), scale = try CUDABuffer(device, count: 1)
        let blockCounts = clipped.map { ($0.count + 255) / 256 }
        let squareSums = try CUDABuffer(device, count: 2 * blockCounts.reduce(0, +))  // doubles
        let proceed = try CUDABuffer(device, [0] as [Int32]), skip = try CUDABuffer(device, [1] as [Int32])
        var blocks = 0
        for (parameter, (gradient, count)) in zip(clipped, zip(gradients, blockCounts)) {
            try device.launch("nn_clip_values", count: parameter.count,
                              [.buffer(gradient), .buffer(limits.view(offset: 0, count: 1)), .buffer(proceed), .long(parameter.count)])
            try device.launch("nn_block_squares", count: count,
                              [.buffer(gradient), .buffer(squareSums.view(offset: 2 * blocks, count: 2 * count)),
                               .long(parameter.count)])
            blocks += count
        }
        try device.launch("nn_clip_norm_scale", count: 1,
                          [.buffer(squareSums), .int(Int32(blocks)), .buffer(limits.view(offset: 1, count: 1)), .buffer(scale)])
        for (parameter, gradient) in zip(clipped, gradients) {
            try device.launch("nn_scale_by", count: parameter.count,
                              [.buffer(gradient), .buffer(scale), .buffer(proceed), .long(parameter.count)])
            record("clipping by value then norm: \(parameter.name)'s gradient", try gradient.download(),
                   Array(UnsafeBufferPointer(start: parameter.gradients, count: parameter.count)))
        }
        // A step marked to skip (a gradient not finite) clips nothing: the NaN stays for the host to find.
        let unclipped = [Float.nan, 7, -7], skipped = try CUDABuffer(device, unclipped)
        try device.launch("nn_clip_values", count: 3, [.buffer(skipped), .buffer(limits), .buffer(skip), .long(3)])
        try device.launch("nn_scale_by", count: 3, [.buffer(skipped), .buffer(scale), .buffer(skip), .long(3)])
        let afterSkip = try skipped.download()
        record("clipping a step marked to skip changes nothing", [afterSkip[0].isNaN ? 0 : 1] + afterSkip.dropFirst(),
               [0] + unclipped.dropFirst())

        // Every element-wise activation the device computes, forward and backward (from the output,
        // or the input and output for GELU and swish), against the CPU's.
        for activation in Activation.allCases {
            guard let function = activation.deviceFunction else { continue }
            let count = 301, x = random(count, scale: 3), dy = random(count)
            var y = [Float](repeating: 0, count: count), dx = y
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in activation.forward(x.baseAddress!, y.baseAddress!, rows: 1, width: count) }
            }
            x.withUnsafeBufferPointer { x in
                y.withUnsafeBufferPointer { y in
                    dy.withUnsafeBufferPointer { dy in
                        dx.withUnsafeMutableBufferPointer { dx in
                            activation.backward(input: x.baseAddress!, output: y.baseAddress!, outputGradient: dy.baseAddress!,
                                                inputGradient: dx.baseAddress!, rows: 1, width: count)
                        }
                    }
                }
            }
            let gx = try CUDABuffer(device, x), gy = try CUDABuffer(device, count: count)
            let gdy = try CUDABuffer(device, dy), gdx = try CUDABuffer(device, count: count)
            try device.launch("nn_apply_activation", count: count, [.buffer(gx), .buffer(gy), .int(function), .long(count)])
            if activation.derivativeFromOutput {
                try device.launch("nn_apply_activation_gradient", count: count,
                                  [.buffer(gy), .buffer(gdy), .buffer(gdx), .int(function), .long(count)])
            } else {
                try device.launch("nn_apply_activation_gradient_from_input", count: count,
                                  [.buffer(gx), .buffer(gy), .buffer(gdy), .buffer(gdx), .int(function), .long(count)])
            }
            record("\(activation.rawValue): forward", try gy.download(), y)
            record("\(activation.rawValue): backward", try gdx.download(), dx)
        }

        // Softmax's backward pass (a softmax layer not fused with a loss).
        let (softmaxRows, softmaxWidth) = (23, 10)
        let softmaxOutput = activated(Tensor(shape: [softmaxRows, softmaxWidth], scalars: random(softmaxRows * softmaxWidth, scale: 3)),
                                      .softmax)
        let dy = random(softmaxRows * softmaxWidth)
        var dx = [Float](repeating: 0, count: dy.count)
        softmaxOutput.scalars.withUnsafeBufferPointer { y in
            Softmax.backward(output: y.baseAddress!, outputGradient: dy, inputGradient: &dx, rows: softmaxRows, width: softmaxWidth)
        }
        let softmaxY = try CUDABuffer(device, softmaxOutput.scalars), softmaxDy = try CUDABuffer(device, dy)
        let softmaxDx = try CUDABuffer(device, count: dy.count)
        try device.launch("nn_softmax_rows_gradient", count: softmaxRows,
                          [.buffer(softmaxY), .buffer(softmaxDy), .buffer(softmaxDx), .int(Int32(softmaxRows)),
                           .int(Int32(softmaxWidth))])
        record("softmax backward", try softmaxDx.download(), dx)

        let blas = try CUBLAS(device)
        for (transposeA, transposeB) in [(false, false), (true, false), (false, true)] {
            let (m, n, k) = (33, 47, 29)
            let a = random(m * k), b = random(k * n), c0 = random(m * n)
            let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
            let ga = try CUDABuffer(device, a), gb = try CUDABuffer(device, b)
            let shape = "A\(transposeA ? "ᵀ" : "")·B\(transposeB ? "ᵀ" : "")"
            // In bf16 (tensor cores), against the CPU's float32 product of the operands rounded to bf16.
            for precision in Precision.allCases {
                let round: (Float) -> Float = { precision == .bfloat16 ? Precision.roundedToBFloat16($0) : $0 }
                var c = c0
                a.map(round).withUnsafeBufferPointer { a in
                    b.map(round).withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            cpu.multiply(MatrixProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                       a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: 0.5,
                                                       c: c.baseAddress!, ldc: n), threads: 1)
                        }
                    }
                }
                let gc = try CUDABuffer(device, c0)
                try blas.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: ga, lda: lda, b: gb,
                                  ldb: ldb, beta: 0.5, c: gc, ldc: n, precision: precision)
                try device.synchronize()
                record(precision == .float32 ? "cuBLAS product (\(shape))" : "cuBLAS bf16 product (\(shape)), operands rounded to bf16",
                       try gc.download(), c)
            }
        }
        return results
    }

    /// The models the parity runs train: the reference model's shape (a bidirectional LSTM and a
    /// softmax layer), a convolutional one (batch normalisation, both poolings), one with the other
    /// device forms (sequences, the sum and product merges, GRUs of both conventions, Flatten,
    /// Dropout with the CPU's masks, a relu layer; SimpleRNN's form is checked on the simulator
    /// only: in this stack it made the run chaotic, so that rounding alone grew past the
    /// tolerance), and a multi-label one trained another way (a position embedding and layer
    /// normalisation; Adam, binary cross-entropy on sigmoid outputs, gradients clipped by value and
    /// by norm). All but the last train with SGD, Nesterov
    /// momentum and softmax cross-entropy.
    public enum ParityModel: String, CaseIterable, Sendable {
        case reference = "reference model", everyForm = "other device forms", convolutions = "convolutions"
        case otherTraining = "Adam, binary cross-entropy, clipping"

        func make() -> Sequential {
            switch self {
            case .reference:
                Sequential {
                    Bidirectional(LSTM(units: 32, recurrentActivation: .hardSigmoid))
                    Dense(units: 10, activation: .softmax)
                }
            case .everyForm:
                Sequential {
                    Bidirectional(LSTM(units: 12, returnSequences: true), mergeMode: .sum)
                    Bidirectional(GRU(units: 6, recurrentActivation: .hardSigmoid, returnSequences: true), mergeMode: .mul)
                    GRU(units: 6, returnSequences: true, resetAfter: false)
                    Flatten()
                    Dropout(rate: 0.2)
                    Dense(units: 16, activation: .relu)
                    Dense(units: 10, activation: .softmax)
                }
            case .convolutions:
                Sequential {
                    Conv2D(filters: 8, kernelSize: Size2D(5), useBias: false)  // a bias's gradient here is 0 but for rounding
                    BatchNormalization()
                    ActivationLayer(.relu)
                    MaxPooling2D()
                    Conv2D(filters: 12, kernelSize: Size2D(3), padding: .same, activation: .relu)
                    AveragePooling2D()
                    Flatten()
                    Dense(units: 10, activation: .softmax)
                }
            case .otherTraining:
                Sequential {
                    PositionEmbedding()
                    Flatten()
                    Dense(units: 32, activation: .relu)
                    LayerNormalization()
                    Dense(units: 10, activation: .sigmoid)
                }
            }
        }

        var loss: Loss { self == .otherTraining ? .binaryCrossEntropy : .categoricalCrossEntropy }

        func optimizer() -> any Optimizer {
            self == .otherTraining ? Adam(learningRate: learningRate) : SGD(learningRate: learningRate, momentum: 0.9, nesterov: true)
        }

        /// Clipping by value, then by norm (nil: none), with limits that change the run (a test checks).
        var clipping: (norm: Float, value: Float)? { self == .otherTraining ? (0.05, 0.002) : nil }

        /// A rate at which the model learns steadily: a run that diverges would magnify rounding
        /// differences into failures.
        var learningRate: Float {
            switch self {
            case .reference: 0.1
            case .everyForm: 0.02
            case .convolutions: 0.01  // slower, parameters barely move from where they started, where rounding looms large
            case .otherTraining: 0.003
            }
        }
    }

    /// Whole runs through ``CUDABackend`` against the same runs on the CPU, for each
    /// ``ParityModel``, twice: with the model on the GPU (``CUDAModel``) and layer by layer through
    /// the backend's calls. 2 epochs of 512 images it can learn (noise with a bright column whose
    /// place is the label), the model's loss, optimizer and clipping, the same seed. Each epoch's training loss,
    /// every trained parameter and the evaluation after training must agree within `tolerance`
    /// (relative: to the loss, to the parameter's largest value); a run in which the GPU failed
    /// (and the CPU took over), or the model did not stay on the GPU, is an error.
    public static func training(_ device: CUDADevice, tolerance: Float = 1e-3) throws -> [Result] {
        var results: [Result] = []
        for model in ParityModel.allCases {
            results += try training(model, device, tolerance: tolerance)
        }
        return results + (try bfloat16Training(device))
    }

    /// The reference parity model in bf16 with the model on the GPU (tensor cores) against the
    /// CPU's run: in bf16 too where the CPU has AVX512-BF16 (the same rounded operands:
    /// `tolerance`), else float32's (bf16's rounding apart: `bf16Tolerance`). Each epoch's loss and
    /// the evaluation.
    static func bfloat16Training(_ device: CUDADevice, tolerance: Float = 1e-3, bf16Tolerance: Float = 2e-2) throws -> [Result] {
        let cpu = try parityRun(on: CPUBackend(), precision: .bfloat16)
        let gpu = try CUDABackend(device: device)
        let cuda = try parityRun(on: gpu, precision: .bfloat16)
        let mode = "reference model in bf16, on the GPU", against = Precision.bfloat16Supported ? "bf16" : "float32"
        if let failure = gpu.failure { throw CUDAError("\(mode): the GPU failed during the run (the CPU took over): \(failure)") }
        guard cuda.onDevice else { throw CUDAError("\(mode): the model did not stay on the GPU") }
        let limit = Precision.bfloat16Supported ? tolerance : bf16Tolerance
        func relative(_ name: String, _ expected: Float, _ actual: Float) -> Result {
            Result(name: "\(mode): \(name) \(expected) on the CPU in \(against) (relative difference)",
                   maximumDifference: abs(actual - expected) / max(abs(expected), 1e-6), tolerance: limit)
        }
        return zip(cpu.losses, cuda.losses).enumerated().map { relative("epoch \($0 + 1)'s loss", $1.0, $1.1) }
            + [relative("evaluation loss", cpu.evaluation.loss, cuda.evaluation.loss)]
    }

    static func training(_ model: ParityModel, _ device: CUDADevice, tolerance: Float) throws -> [Result] {
        let cpu = try parityRun(on: CPUBackend(), model: model)
        var results: [Result] = []
        for wholeModel in [true, false] {
            let gpu = try CUDABackend(device: device)
            gpu.keepsModelOnDevice = wholeModel
            let cuda = try parityRun(on: gpu, model: model)
            let mode = "\(model.rawValue), \(wholeModel ? "on the GPU" : "layer by layer")"
            if let failure = gpu.failure { throw CUDAError("\(mode): the GPU failed during the run (the CPU took over): \(failure)") }
            guard cuda.onDevice == wholeModel else { throw CUDAError("\(mode): the model \(wholeModel ? "did not stay" : "stayed") on the GPU") }
            guard cpu.losses.count == 2, cuda.losses.count == 2, cpu.parameters.count == cuda.parameters.count else {
                throw CUDAError("\(mode): the CPU and CUDA runs did not both train 2 epochs")
            }
            func relative(_ name: String, _ expected: Float, _ actual: Float) -> Result {
                Result(name: "\(mode): \(name) \(expected) on the CPU (relative difference)",
                       maximumDifference: abs(actual - expected) / max(abs(expected), 1e-6), tolerance: tolerance)
            }
            for (epoch, pair) in zip(cpu.losses, cuda.losses).enumerated() {
                results.append(relative("epoch \(epoch + 1)'s loss", pair.0, pair.1))
            }
            results.append(relative("evaluation loss", cpu.evaluation.loss, cuda.evaluation.loss))
            results.append(relative("evaluation accuracy", cpu.evaluation.accuracy ?? 0, cuda.evaluation.accuracy ?? 0))
            for (a, b) in zip(cpu.parameters, cuda.parameters) {
                let scale = max(a.1.map(abs).max() ?? 0, 1e-6)
                results.append(Result(name: "\(mode): \(a.0) after 2 epochs (relative difference)",
                                      maximumDifference: largestDifference(a.1, b.1) / scale, tolerance: tolerance))
            }
        }
        return results
    }

    /// The run `training` compares: each epoch's training loss and the trained parameters.
    static func parityRun(on backend: any Backend, model kind: ParityModel = .reference, precision: Precision = .float32,
                          clipping: Bool = true) throws
        -> (losses: [Float], parameters: [(String, [Float])], evaluation: Evaluation, onDevice: Bool) {
        var generator = RandomGenerator(seed: 3)
        let count = 512, side = 28
        let labels = (0..<count).map { _ in Int(generator.next() % 10) }
        var images = (0..<(count * side * side)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 64) }
        for (sample, label) in labels.enumerated() {  // a bright column at a place that is the label, every step
            for row in 0..<side { images[(sample * side + row) * side + 4 + 2 * label] = 255 }
        }
        let data = try Dataset(images: images, labels: labels, rows: side, columns: side, classCount: 10)
        let model = kind.make()
        try model.build(inputShape: [side, side], seed: 5)
        (model.backend, model.precision) = (backend, precision)
        let history = try model.fit(data, loss: kind.loss, optimizer: kind.optimizer(), epochs: 2, batchSize: 16, seed: 5,
                                    clipNorm: clipping ? kind.clipping?.norm : nil, clipValue: clipping ? kind.clipping?.value : nil)
        let evaluation = try model.evaluate(data, loss: kind.loss, batchSize: 16)
        // Every step taken with the whole model on the device (not on the host path).
        let steps = 2 * ((count + 15) / 16)
        let onDevice = (try backend.modelExecution(for: model, batchSize: 16) as? CUDAModel)?.stepsTaken == steps
        return (history.map(\.trainLoss), model.parameters.map { ($0.name, $0.tensor.scalars) }, evaluation, onDevice)
    }
}
