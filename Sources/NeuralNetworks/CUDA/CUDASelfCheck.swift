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

        let (batch, classes) = (53, 10)
        let logits = random(batch * classes, scale: 4)
        let labels = (0..<batch).map { _ in Int(generator.next() % UInt64(classes)) }
        let expected = Loss.categoricalCrossEntropy.valueAndGradient(
            logits: Tensor(shape: [batch, classes], scalars: logits), targets: .classes(labels), stepCounts: nil)
        let z = try CUDABuffer(device, logits), y = try CUDABuffer(device, labels.map(Int32.init))
        let probabilities = try CUDABuffer(device, count: batch * classes), rowLoss = try CUDABuffer(device, count: batch)
        let gradient = try CUDABuffer(device, count: batch * classes)
        try device.launch("nn_softmax_cross_entropy", count: batch,
                          [.buffer(z), .buffer(y), .buffer(probabilities), .buffer(rowLoss), .buffer(gradient),
                           .int(Int32(batch)), .int(Int32(classes))])
        let meanLoss = try rowLoss.download().reduce(0, +) / Float(batch)
        record("softmax cross-entropy: mean loss", [meanLoss], [expected.value])
        record("softmax cross-entropy: gradient", try gradient.download(), expected.gradient.scalars)

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

        for (momentum, nesterov) in [(Float(0), false), (0.9, false), (0.9, true)] {
            let parameter = Parameter(name: "w", shape: [1000])
            parameter.tensor = Tensor(shape: [1000], scalars: random(1000))
            let start = parameter.tensor.scalars
            let optimizer = SGD(learningRate: 0.1, momentum: momentum, nesterov: nesterov)
            let w = try CUDABuffer(device, start), velocity = try CUDABuffer(device, count: 1000)
            let settings = try CUDABuffer(device, [0.1, momentum, 0] as [Float]), skip = try CUDABuffer(device, [0] as [Int32])
            try velocity.upload([Float](repeating: 0, count: 1000))
            for _ in 0..<2 {
                let g = random(1000)
                parameter.gradients.update(from: g, count: g.count)
                optimizer.update([parameter], threads: 1)
                let gradientBuffer = try CUDABuffer(device, g)
                try device.launch("nn_sgd_update", count: 1000, [.buffer(w), .buffer(gradientBuffer), .buffer(velocity),
                                                                 .buffer(settings), .buffer(skip), .int(nesterov ? 1 : 0),
                                                                 .long(1000)])
            }
            record("sgd (momentum \(momentum)\(nesterov ? ", Nesterov" : "")), 2 steps", try w.download(), parameter.tensor.scalars)
        }

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
    /// softmax layer), a convolutional one (batch normalisation, both poolings), and one with the other device forms (sequences, the sum and product
    /// merges, a GRU, Flatten, Dropout with the CPU's masks, a relu layer; SimpleRNN's form is checked on the simulator only: in
    /// this stack it made the run chaotic, so that rounding alone grew past the tolerance).
    public enum ParityModel: String, CaseIterable, Sendable {
        case reference = "reference model", everyForm = "other device forms", convolutions = "convolutions"

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
            }
        }

        /// A rate at which the model learns steadily: a run that diverges would magnify rounding
        /// differences into failures.
        var learningRate: Float {
            switch self {
            case .reference: 0.1
            case .everyForm: 0.02
            case .convolutions: 0.01  // slower, parameters barely move from where they started, where rounding looms large
            }
        }
    }

    /// Whole runs through ``CUDABackend`` against the same runs on the CPU, for each
    /// ``ParityModel``, twice: with the model on the GPU (``CUDAModel``) and layer by layer through
    /// the backend's calls. 2 epochs of 512 images it can learn (noise with a bright column whose
    /// place is the label), SGD with Nesterov momentum, the same seed. Each epoch's training loss,
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
    static func parityRun(on backend: any Backend, model kind: ParityModel = .reference, precision: Precision = .float32) throws
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
        let history = try model.fit(data, optimizer: SGD(learningRate: kind.learningRate, momentum: 0.9, nesterov: true), epochs: 2,
                                    batchSize: 16, seed: 5)
        let evaluation = try model.evaluate(data, batchSize: 16)
        let onDevice = try backend.modelExecution(for: model, batchSize: 16) != nil
        return (history.map(\.trainLoss), model.parameters.map { ($0.name, $0.tensor.scalars) }, evaluation, onDevice)
    }
}
