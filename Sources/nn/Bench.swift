import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn bench`: the speed of the reference model on this machine, against the `cblas_sgemm`
/// ceiling at the LSTM's own shapes and, with `--compare`, PyTorch, all measured in one run.
struct Bench: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference speed of the reference model on this machine.",
        discussion: """
            Trains one full epoch of the reference model on the data (Fashion-MNIST by default), \
            measures inference, the cblas_sgemm ceiling at the LSTM's shapes and, with --compare, \
            the same model in PyTorch (and the mlp and bigru presets, ours then PyTorch's), then \
            prints one table and writes it to --output.
            """)

    @Option(help: "IDX data directory.")
    var data = "/usr/share/datasets/fashion-mnist"

    @Option(help: "Threads, 1 or 2 (2: one LSTM direction per core; the PyTorch peer gets the same number).")
    var threads = 2

    @Option(help: "Where the model trains: cpu, or cuda (the reference model on the GPU for --gpu-epochs epochs; with --compare, PyTorch's on the GPU).")
    var device: ComputeDevice = .cpu

    @Option(help: "Epochs on the GPU with --device cuda (the first compiles the kernels and records the steps: the others are the figure).")
    var gpuEpochs = 3

    @Flag(help: "Also time the PyTorch peers in the same run: the reference model (../shared/bench/peers/torch_bilstm.py), the mlp and bigru presets (scripts/peers/).")
    var compare = false

    @Option(help: "Python with torch for --compare.")
    var python = ".venv-peers/bin/python"

    @Option(help: "The PyTorch peer script for --compare.")
    var peerScript = "../shared/bench/peers/torch_bilstm.py"

    @Option(help: "The PyTorch script of the mlp preset for --compare.")
    var mlpPeerScript = "scripts/peers/torch_mlp.py"

    @Option(help: "The PyTorch script of the bigru preset for --compare.")
    var bigruPeerScript = "scripts/peers/torch_bigru.py"

    @Option(help: "The PyTorch script of the convolutional presets (cnn, cnn-pool, cnn-bn) for --compare.")
    var cnnPeerScript = "scripts/peers/torch_cnn.py"

    @Flag(inversion: .prefixedNo, help: "Measure the scaling table (units, steps, batch size).")
    var scaling = true

    @Flag(help: "Only measure every product of the reference model and the mlp preset with OpenBLAS and with the project's kernel, print which one runs each, and stop (no epoch; --output untouched).")
    var productsOnly = false

    @Option(help: "Epochs of float32 and of bf16 training to compare speed and test accuracy (0: skip; with --device cuda, any other number runs --gpu-epochs of each).")
    var precisionEpochs = 5

    @Option(help: "Markdown file the results are written to (empty: do not write). Default: Benchmarks/results.md for a run over all the data on the CPU; a run with --train-limit, --test-limit or --device cuda writes only where this names a file.")
    var output: String?

    /// Where the table goes: a partial run or a GPU run does not replace the CPU's full-run figures
    /// unless asked to (`nn bench --train-limit 512`, the README's quick check, would have).
    private var outputFile: String? {
        if let output { return output.isEmpty ? nil : output }
        return trainLimit == nil && testLimit == nil && device == .cpu ? "Benchmarks/results.md" : nil
    }

    @Option(help: "Seed of the benchmarked model.")
    var seed: UInt64 = 0

    @Option(help: "Use the first N training images only (a quick check of the harness; figures are per epoch of N).")
    var trainLimit: Int?

    @Option(help: "Use the first N test images only.")
    var testLimit: Int?

    func validate() throws {
        guard gpuEpochs >= 2 else { throw ValidationError("--gpu-epochs must be at least 2 (the first one warms up), got \(gpuEpochs)") }
        guard (1...2).contains(threads) else {
            throw ValidationError("--threads must be 1 or 2 (one thread per LSTM direction), got \(threads)")
        }
        for (flag, limit) in [("--train-limit", trainLimit), ("--test-limit", testLimit)] {
            if let limit, limit < 1 { throw ValidationError("\(flag) must be at least 1, got \(limit)") }
        }
    }

    private func log(_ message: String) {
        FileHandle.standardError.write(Data("# \(message)\n".utf8))
    }

    func execute() throws {
        BLAS.threadCount = 1
        if productsOnly {
            return print(render(title: "Every product, OpenBLAS against the project's kernel (\(threads) thread(s) at once)",
                                header: ("shape", "GFLOP/s per core, and the one that runs it"),
                                rows: productRows(GEMMShape.layerLSTM(batch: 128, steps: 28, features: 28, units: 128),
                                                  bfloat16: Precision.bfloat16Supported)
                                    + productRows(GEMMShape.mlp)))
        }
        let directory = try IDXDirectory(directory: data)
        let train = directory.train.prefix(trainLimit), test = directory.test.prefix(testLimit)
        if device == .cuda { return try benchGPU(train: train, test: test) }
        let trainCount = "\(train.count)", testCount = "\(test.count)"
        var rows: [(String, String)] = []

        // Three yardsticks: cblas_sgemm at the textbook split the targets are defined with; at the
        // products the layer really runs (fewer, larger: usually faster); and those products run
        // by the kernels the layer uses (the strictest: what the epoch would take with nothing but them).
        log("GEMM ceiling at the LSTM's shapes, \(threads) thread(s) at once")
        let textbook = GEMMShape.lstm(batch: 128, steps: train.sampleShape[0], features: train.sampleShape[1], units: 128)
        let layer = GEMMShape.layerLSTM(batch: 128, steps: train.sampleShape[0], features: train.sampleShape[1], units: 128)
        let yardsticks: [(name: String, label: String, shapes: [GEMMShape], kernel: GEMMCeiling.Kernel)] = [
            ("textbook", "cblas_sgemm at the LSTM's textbook shapes", textbook, .blas),
            ("layer", "cblas_sgemm at the shapes the layer runs", layer, .blas),
            ("layer, its kernels", "the layer's shapes run by the kernels it uses (\(Set(layer.map { GEMMCeiling.Kernel.layer.running($0).name }).sorted().joined(separator: ", ")))", layer, .layer),
        ]
        struct Measured: Hashable { let shape: GEMMShape; let kernel: GEMMCeiling.Kernel }
        func measureCeilings() -> [[Double]] {
            var rates: [Measured: Double] = [:]  // a product in several lists is measured once
            func key(_ shape: GEMMShape, _ kernel: GEMMCeiling.Kernel) -> Measured {
                Measured(shape: shape, kernel: kernel.running(shape))
            }
            for yardstick in yardsticks {
                for shape in yardstick.shapes where rates[key(shape, yardstick.kernel)] == nil {
                    rates[key(shape, yardstick.kernel)] = GEMMCeiling.measure(shape, threads: threads, kernel: yardstick.kernel)
                }
            }
            return yardsticks.map { yardstick in yardstick.shapes.map { rates[key($0, yardstick.kernel)]! } }
        }
        let ratesBefore = measureCeilings()

        log("one full training epoch of the reference model")
        let model = referenceModel(units: 128, classes: train.classCount)
        try model.build(inputShape: train.sampleShape, seed: seed)
        let optimizer = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-6)
        var batchEnds: [Double] = []
        var report: EpochReport?
        let bidirectional = model.layers.compactMap { $0 as? Bidirectional }
        bidirectional.forEach { $0.resetTiming() }
        try model.fit(train, validation: test, optimizer: optimizer, epochs: 1, batchSize: 128, seed: seed,
                      onBatch: { batchEnds.append($0.seconds) }, onEpoch: { report = $0 })
        let peakMemory = Self.peakResidentBytes()
        let imbalance = bidirectional.reduce(0.0) { $0 + $1.timing.imbalanceSeconds }
        let trainSeconds = batchEnds.last!
        let epochSeconds = report!.elapsedSeconds
        // 10 warm-up batches and stretches of 50 on the full data; shorter ones on a --train-limit.
        let warmup = min(10, batchEnds.count / 4), stretch = min(50, max(1, (batchEnds.count - warmup) / 3))
        let stretches = Self.stretchRates(batchEnds, batchSize: 128, warmup: warmup, length: stretch)
        let trainRate = Self.median(stretches)
        // The ceiling again: these shared machines drift, so the epoch is compared with the mean of
        // the ceilings measured just before and just after it.
        log("GEMM ceiling again, after the epoch")
        let ratesAfter = measureCeilings()
        let rates = zip(ratesBefore, ratesAfter).map { zip($0, $1).map { ($0 + $1) / 2 } }

        log("inference")
        let inferenceSeconds = try Self.seconds { _ = try model.evaluate(test, batchSize: 128) }
        let largeBatchSeconds = try Self.seconds { _ = try model.evaluate(test, batchSize: 1000) }
        let one = try test.batch([0]).inputs
        var latencies: [Double] = []
        for _ in 0..<200 {
            latencies.append(Self.seconds { _ = model.forward(one) })
        }

        // FLOP counts: the layers' own forward count ×3 for a training step (forward + backward ≈ 2×).
        let forwardFLOPs = Double(model.forwardFLOPsPerSample)
        let achieved = 3 * forwardFLOPs * trainRate / 1e9
        let directions = 2.0, batches = Double((train.count + 127) / 128), testBatches = Double((test.count + 127) / 128)
        func ceilingEpoch(_ shapes: [GEMMShape], _ rates: [Double]) -> Double {
            zip(shapes, rates).reduce(0.0) { total, pair in
                let (shape, rate) = pair
                let calls = batches * Double(shape.callsPerTrainingBatch) + testBatches * Double(shape.callsPerInferenceBatch)
                // Each direction runs on its own core when threads ≥ 2; one after the other otherwise.
                let perCore = threads >= 2 ? 1 : directions
                return total + perCore * calls * shape.flops / (rate * 1e9)
            }
        }
        func ceilingRate(_ shapes: [GEMMShape], _ rates: [Double]) -> Double {
            zip(shapes, rates).reduce(0.0) { $0 + $1.0.flops * Double($1.0.callsPerTrainingBatch) }
                / zip(shapes, rates).reduce(0.0) { $0 + $1.0.flops * Double($1.0.callsPerTrainingBatch) / $1.1 }
                * Double(threads)
        }

        rows.append(("kernels", PanelKernel.choiceDescription.components(separatedBy: ". NN_KERNEL=").first!
                     + (OpenBLASCore.environmentNote.map { " (\($0))" } ?? "")))
        rows.append(("training throughput (median of \(stretches.count) stretches of \(stretch) batches)", String(format: "%.0f samples/s", trainRate)))
        rows.append(("one epoch, measured: training \(trainCount) + test \(testCount)", String(format: "%.2f s (%.2f + %.2f)", epochSeconds, trainSeconds, epochSeconds - trainSeconds)))
        rows.append(("test accuracy after that epoch", String(format: "%.4f", report!.testAccuracy!)))
        rows.append(("inference, \(testCount) test images, batch 128", String(format: "%.2f s (%.0f samples/s)", inferenceSeconds, Double(test.count) / inferenceSeconds)))
        rows.append(("inference, \(testCount) test images, batch 1000", String(format: "%.2f s (%.0f samples/s)", largeBatchSeconds, Double(test.count) / largeBatchSeconds)))
        rows.append(("inference latency, batch 1 (median of 200)", String(format: "%.2f ms", Self.median(latencies) * 1000)))
        rows.append(("training FLOPs per sample (3 × forward)", String(format: "%.2f MFLOP", 3 * forwardFLOPs / 1e6)))
        rows.append(("achieved, whole training step", String(format: "%.0f GFLOP/s", achieved)))
        for (index, yardstick) in yardsticks.enumerated() {
            let (shapes, mean, before, after) = (yardstick.shapes, rates[index], ratesBefore[index], ratesAfter[index])
            let epoch = ceilingEpoch(shapes, mean)
            rows.append(("ceiling: \(yardstick.label) (FLOP-weighted, \(threads) core(s)): mean of before / after the epoch",
                         String(format: "%.0f GFLOP/s (%.0f / %.0f)", ceilingRate(shapes, mean), ceilingRate(shapes, before),
                                ceilingRate(shapes, after))))
            rows.append(("epoch at that ceiling (GEMM FLOPs only)", String(format: "%.2f s", epoch)))
            rows.append(("measured epoch ÷ that ceiling epoch", String(format: "%.2f×", epochSeconds / epoch)))
        }
        rows.append(("wall time lost while one direction's core waited for the other's (summed differences ÷ 2)",
                     String(format: "%.2f s (%.1f%% of the epoch)", imbalance, 100 * imbalance / epochSeconds)))
        rows.append(("peak resident memory (after the epoch)", String(format: "%.0f MB", Double(peakMemory) / 1e6)))

        if compare {
            log("PyTorch peer, one epoch")
            let peer = try runPeer()
            rows.append(("PyTorch \(peer.version), one epoch: training + test", String(format: "%.2f s (%.2f + %.2f)", peer.epoch, peer.train, peer.epoch - peer.train)))
            rows.append(("PyTorch epoch ÷ ours (> 1: we are faster)", String(format: "%.2f×", peer.epoch / epochSeconds)))
            // Presets with a PyTorch script of their own: each one epoch, ours then PyTorch's.
            let presetPeers = [("mlp", mlpPeerScript, [String]()), ("bigru", bigruPeerScript, [])]
                + ["cnn", "cnn-pool", "cnn-bn"].map { ($0, cnnPeerScript, ["--preset", $0]) }
            for (name, script, arguments) in presetPeers {
                log("the \(name) preset, one epoch, ours then PyTorch's")
                let preset = Preset.named(name)!
                precondition(preset.optimizer == "sgd", "the compared presets train with SGD")
                let model = try ModelSpec.model(preset.model, classes: train.classCount)
                try model.build(inputShape: train.sampleShape, seed: seed)
                model.threads = threads
                let optimizer = SGD(learningRate: preset.learningRate, momentum: preset.momentum, nesterov: preset.nesterov,
                                    decay: preset.decay)
                let history = try model.fit(train, validation: test, optimizer: optimizer, epochs: 1,
                                            batchSize: preset.batchSize, seed: seed, shuffle: preset.shuffle)
                let ours = history[0].elapsedSeconds
                let peer = try runPeer(script: script, arguments: arguments)
                rows.append(("\(name) preset (\(preset.about)), one epoch: ours / PyTorch \(peer.version)",
                             String(format: "%.2f s / %.2f s", ours, peer.epoch)))
                rows.append(("\(name): PyTorch epoch ÷ ours (> 1: we are faster)", String(format: "%.2f×", peer.epoch / ours)))
            }
        }

        var precisionRows: [(String, String)] = []
        if precisionEpochs > 0 {
            var results: [Precision: (seconds: Double, accuracy: Float, inference: Double, epochs: [Double])] = [:]
            for precision in [Precision.float32, .bfloat16] {
                log("\(precisionEpochs) epochs in \(precision.rawValue)")
                let model = referenceModel(units: 128, classes: train.classCount)
                try model.build(inputShape: train.sampleShape, seed: seed)
                model.precision = precision
                let optimizer = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-6)
                let history = try model.fit(train, validation: test, optimizer: optimizer, epochs: precisionEpochs,
                                            batchSize: 128, seed: seed)
                let inference = try Self.seconds { _ = try model.evaluate(test, batchSize: 128) }
                let ends = history.map(\.elapsedSeconds)  // cumulative: each epoch's own time is the difference
                let epochs = zip(ends, [0] + ends.dropLast()).map { $0 - $1 }
                results[precision] = (history.last!.elapsedSeconds / Double(precisionEpochs), history.last!.testAccuracy!,
                                      inference, epochs)
            }
            let f32 = results[.float32]!, bf16 = results[.bfloat16]!
            let note = Precision.bfloat16Supported ? "" : " (no AVX512-BF16 here: bf16 ran as float32)"
            precisionRows = [
                ("float32: seconds per epoch (train + test), test accuracy after \(precisionEpochs) epochs",
                 String(format: "%.2f s, %.4f", f32.seconds, f32.accuracy)),
                ("bf16\(note): seconds per epoch, test accuracy after \(precisionEpochs) epochs",
                 String(format: "%.2f s, %.4f", bf16.seconds, bf16.accuracy)),
                ("bf16 speed-up; accuracy change", String(format: "%.2f×; %+.2f points", f32.seconds / bf16.seconds,
                                                          100 * (bf16.accuracy - f32.accuracy))),
                ("inference of the \(testCount) test images: float32 / bf16", String(format: "%.2f s / %.2f s", f32.inference, bf16.inference)),
            ] + [("float32", f32.epochs), ("bf16", bf16.epochs)].map { name, epochs in
                // A drift over a run (a busy host, thermal limits) shows as a last epoch slower than the first.
                ("\(name): epoch times, fastest / median / slowest; last ÷ first",
                 String(format: "%.2f / %.2f / %.2f s; %.2f×", epochs.min()!, Self.median(epochs), epochs.max()!,
                        epochs.last! / epochs.first!))
            }
        }

        var scalingRows: [(String, String)] = []
        if scaling {
            log("scaling")
            for units in [64, 128, 256, 512] {
                scalingRows.append(("units \(units), 28 steps, batch 128", Self.seconds(try epochEstimate(units: units, steps: 28, batch: 128))))
            }
            for steps in [14, 56] {
                scalingRows.append(("units 128, \(steps) steps, batch 128", Self.seconds(try epochEstimate(units: 128, steps: steps, batch: 128))))
            }
            for batch in [32, 512] {
                scalingRows.append(("units 128, 28 steps, batch \(batch)", Self.seconds(try epochEstimate(units: 128, steps: 28, batch: batch))))
            }
            if threads >= 2 {
                let oneThread = try epochEstimate(units: 128, steps: 28, batch: 128, configure: { $0.threads = 1 })
                scalingRows.append(("units 128, 28 steps, batch 128, 1 thread (the directions in turn)", Self.seconds(oneThread)))
                // A one-directional LSTM(128): its parallelism is the batch's rows split over the threads.
                for count in [1, threads] {
                    let seconds = try epochEstimate(units: 128, steps: 28, batch: 128, model: {
                        Sequential { LSTM(units: 128, recurrentActivation: .hardSigmoid); Dense(units: 10, activation: .softmax) }
                    }, configure: { $0.threads = count })
                    scalingRows.append(("one direction only, LSTM(128), \(count) thread(s)", Self.seconds(seconds)))
                }
            }
        }

        var shapeRows: [(String, String)] = []
        for (yardstick, rates) in zip(yardsticks, rates) {
            let set = yardstick.name
            // A product its kernel hands to cblas_sgemm is listed once, under cblas_sgemm.
            for (shape, rate) in zip(yardstick.shapes, rates) where yardstick.kernel == .blas
                || yardstick.kernel.running(shape) != .blas {
                // The kernel that ran the product, named per row.
                shapeRows.append(("\(set): \(Self.describe(shape)), \(yardstick.kernel.running(shape).name)",
                                  String(format: "%.0f GFLOP/s per core", rate)))
            }
        }
        log("every product with OpenBLAS and with the project's kernel")
        let productTable = productRows(layer + GEMMShape.mlp)

        let markdown = render(rows: rows, shapes: shapeRows, precision: precisionRows, scaling: scalingRows)
            + "\n" + render(title: "Every product of the reference model and the mlp preset, OpenBLAS against the project's kernel",
                            header: ("shape", "GFLOP/s per core, and the one that runs it"), rows: productTable)
        print(markdown)
        if output == nil && outputFile == nil {
            log("a run over part of the data: Benchmarks/results.md left as it was (--output FILE writes the table)")
        }
        if let output = outputFile {
            // Figures of long runs (presets trained to the end) follow the marker and stay as they are.
            var kept: String?
            if let text = try? String(contentsOfFile: output, encoding: .utf8), let marker = text.range(of: Self.keptMarker) {
                kept = String(text[marker.lowerBound...])
            }
            try AtomicFile.write(Data((markdown + (kept.map { "\n" + $0 } ?? "")).utf8), to: output)
            log("written to \(output)")
        }
    }

    /// `--device cuda`: the reference model trained on the GPU for `gpuEpochs` epochs (the model
    /// there as a whole), its inference, the same in bf16 (tensor cores) unless `--precision-epochs 0`,
    /// and with `--compare` PyTorch's on the GPU (cuDNN).
    private func benchGPU(train: Dataset, test: Dataset) throws {
        var backend: CUDABackend?
        // A fresh model from the same seed for each precision: the same run but for the products.
        func run(_ precision: Precision) throws -> (epochs: [Double], warm: Double, accuracy: Double, inference: Double) {
            let model = referenceModel(units: 128, classes: train.classCount)
            try model.build(inputShape: train.sampleShape, seed: seed)
            model.precision = precision
            try device.apply(to: model)
            backend = model.backend as? CUDABackend
            log("\(gpuEpochs) epochs of the reference model in \(precision.rawValue) on \(backend?.device.name ?? "the GPU")")
            let history = try model.fit(train, validation: test, optimizer: SGD(learningRate: 0.1, momentum: 0.9, nesterov: true,
                                                                               decay: 1e-6),
                                        epochs: gpuEpochs, batchSize: 128, seed: seed)
            let ends = history.map(\.elapsedSeconds), epochs = zip(ends, [0] + ends.dropLast()).map { $0 - $1 }
            let inference = try Self.seconds { _ = try model.evaluate(test, batchSize: 128) }
            return (epochs, Self.median(Array(epochs.dropFirst())), Double(history.last!.testAccuracy ?? 0), inference)
        }
        let float32 = try run(.float32)
        guard let gpu = backend else { return }
        let warm = float32.warm
        var rows: [(String, String)] = [
            ("GPU", "\(gpu.device.name), compute capability \(gpu.device.computeCapability.major).\(gpu.device.computeCapability.minor)"),
            ("epochs (training \(train.count) + test \(test.count)), each", float32.epochs.map { String(format: "%.2f s", $0) }.joined(separator: ", ")),
            ("one epoch after the first (median)", String(format: "%.2f s", warm)),
            ("test accuracy after \(gpuEpochs) epochs", String(format: "%.4f", float32.accuracy)),
            ("inference, \(test.count) test images, batch 128", String(format: "%.3f s", float32.inference)),
        ]
        if let failure = gpu.failure { rows.append(("the GPU failed (the CPU took over)", "\(failure)")) }
        if precisionEpochs > 0 && gpu.failure == nil {
            let bf16 = try run(.bfloat16)
            rows += [
                ("bf16 (tensor cores): epochs, each", bf16.epochs.map { String(format: "%.2f s", $0) }.joined(separator: ", ")),
                ("bf16: one epoch after the first (median); speed-up over float32", String(format: "%.2f s; %.2f×", bf16.warm, warm / bf16.warm)),
                ("bf16: test accuracy after \(gpuEpochs) epochs (change)", String(format: "%.4f (%+.2f points)", bf16.accuracy,
                                                                               100 * (bf16.accuracy - float32.accuracy))),
                ("bf16: inference, \(test.count) test images", String(format: "%.3f s", bf16.inference)),
            ]
            if let failure = backend?.failure { rows.append(("the GPU failed in bf16 (the CPU took over)", "\(failure)")) }
        }
        if compare {
            log("PyTorch's reference model on the GPU, \(gpuEpochs) epochs")
            let peer = try runPeer(epochs: gpuEpochs, arguments: ["--device", "cuda"])
            rows.append(("PyTorch \(peer.version) + cuDNN, one epoch after the first: training + test",
                         String(format: "%.2f s (%.2f + %.2f)", peer.epoch, peer.train, peer.epoch - peer.train)))
            rows.append(("PyTorch epoch ÷ ours (> 1: we are faster)", String(format: "%.2f×", peer.epoch / warm)))
        }
        let markdown = render(title: "The reference model on the GPU (nn bench --device cuda, \(ISO8601DateFormatter().string(from: Date())))",
                              header: ("measure", "value"), rows: rows)
        print(markdown)
        if let output = outputFile {
            try AtomicFile.write(Data(markdown.utf8), to: output)
            log("written to \(output)")
        }
    }

    private func referenceModel(units: Int, classes: Int) -> Sequential {
        Sequential {
            Bidirectional(LSTM(units: units, recurrentActivation: .hardSigmoid), threads: threads)
            Dense(units: classes, activation: .softmax)
        }
    }

    /// Seconds for 60,000 training + 10,000 test samples, from a few timed batches of random data,
    /// for the reference model or `model`, `configure`d once built.
    private func epochEstimate(units: Int, steps: Int, batch: Int, model makeModel: (() -> Sequential)? = nil,
                               configure: (Sequential) -> Void = { _ in }) throws -> Double {
        var generator = RandomGenerator(seed: 1)
        let timed = max(4, 2048 / batch), warmup = 2
        let count = batch * (timed + warmup)
        let images = (0..<(count * steps * 28)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let labels = (0..<count).map { _ in Int(generator.next() % 10) }
        let set = try Dataset(images: images, labels: labels, rows: steps, columns: 28, classCount: 10)
        let model = makeModel?() ?? referenceModel(units: units, classes: 10)
        try model.build(inputShape: [steps, 28], seed: 1)
        configure(model)
        let optimizer = SGD(learningRate: 0.01, momentum: 0.9, nesterov: true)
        var ends: [Double] = []
        try model.fit(set, optimizer: optimizer, epochs: 1, batchSize: batch, seed: 1, onBatch: { ends.append($0.seconds) })
        let trainRate = Double(batch * timed) / (ends.last! - ends[warmup - 1])
        let inferenceSeconds = try Self.seconds { _ = try model.evaluate(set, batchSize: batch) }
        let inferenceRate = Double(count) / inferenceSeconds
        return 60_000 / trainRate + 10_000 / inferenceRate
    }

    private struct PeerResult { let version: String; let train: Double; let epoch: Double }

    /// The line in --output after which hand-run figures are kept when the tables are rewritten.
    static let keptMarker = "<!-- Kept by nn bench: figures of whole runs, measured by hand. -->"

    /// The peer's figures: its last epoch's, of `epochs`.
    private func runPeer(script: String? = nil, epochs: Int = 1, arguments: [String] = []) throws -> PeerResult {
        let peerScript = script ?? self.peerScript
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ValidationError("--compare needs PyTorch: run scripts/peers.sh (or pass --python)")
        }
        guard FileManager.default.fileExists(atPath: peerScript) else {
            throw ValidationError("--compare: no peer script at \(peerScript) (pass --peer-script)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [peerScript, "--epochs", "\(epochs)", "--threads", "\(threads)", "--data", data, "--seed", "\(seed)"]
            + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let json = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let train = (object["seconds_per_epoch"] as? [Double])?.last,
              let epoch = (object["seconds_per_epoch_with_eval"] as? [Double])?.last
        else { throw ValidationError("the PyTorch peer failed (exit \(process.terminationStatus))") }
        return PeerResult(version: object["version"] as? String ?? "?", train: train, epoch: epoch)
    }

    /// `M=… N=… K=… NN`: a product's shape as `cblas_sgemm` takes it.
    static func describe(_ shape: GEMMShape) -> String {
        "\(shape.name): M=\(shape.m) N=\(shape.n) K=\(shape.k) " + (shape.transposeA ? "T" : "N") + (shape.transposeB ? "T" : "N")
    }

    /// Each shape with OpenBLAS and with the project's kernel (``PanelKernel/selected``, or the
    /// widest with NN_KERNEL=blas), and which of the two a default ``CPUBackend`` runs it with;
    /// with `bfloat16`, also the bf16 kernel that `--precision bf16` runs it with.
    private func productRows(_ shapes: [GEMMShape], bfloat16: Bool = false) -> [(String, String)] {
        let own = GEMMCeiling.Kernel.own(PanelKernel.selected ?? PanelKernel.widest)
        return shapes.map { shape in
            let blas = GEMMCeiling.measure(shape, threads: threads, kernel: .blas)
            let ours = GEMMCeiling.measure(shape, threads: threads, kernel: own)
            let packing = shape.reusesB ? "B packed once" : "both packed per call"
            var text = String(format: "OpenBLAS %.0f, %@ %.0f (%@); runs: %@", blas, own.name, ours, packing,
                              GEMMCeiling.Kernel.layer.running(shape).name)
            if bfloat16 {
                text += String(format: "; bf16 %.0f (--precision bf16)", GEMMCeiling.measure(shape, threads: threads, kernel: .bfloat16))
            }
            return (Self.describe(shape), text)
        }
    }

    private func table(_ header: (String, String), _ rows: [(String, String)]) -> String {
        // A "|" inside a cell (as in "[x | h | 1]") would split it: Markdown wants it escaped.
        func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
        return "| \(header.0) | \(header.1) |\n|---|---|\n"
            + rows.map { "| \(cell($0.0)) | \(cell($0.1)) |" }.joined(separator: "\n") + "\n"
    }

    private func render(title: String, header: (String, String), rows: [(String, String)]) -> String {
        "## \(title)\n\n" + table(header, rows)
    }

    private func render(rows: [(String, String)], shapes: [(String, String)], precision: [(String, String)],
                        scaling: [(String, String)]) -> String {
        let date = ISO8601DateFormatter().string(from: Date())
        var text = "# nn bench results\n\n"
        text += "Measured \(date) on \(Self.machine()), \(threads) thread(s); data: \(data). "
        text += "Reference model: Bidirectional(LSTM(128, hard sigmoid)) → Dense(10, softmax), SGD Nesterov, batch 128.\n\n"
        text += table(("figure", "value"), rows)
        text += "\n## Matrix products at the LSTM's shapes (batch 128, 28 steps, 28 features, 128 units)\n\n"
        text += table(("shape", "measured"), shapes)
        if !precision.isEmpty {
            text += "\n## bfloat16 products (`--precision bf16`) against float32, same data, same seed\n\n"
            text += table(("figure", "value"), precision)
        }
        if !scaling.isEmpty {
            text += "\n## Scaling: estimated seconds per epoch (60,000 training + 10,000 test samples)\n\n"
            text += table(("configuration", "seconds per epoch"), scaling)
        }
        return text
    }

    static func seconds(_ s: Double) -> String { String(format: "%.1f s", s) }

    /// Wall-clock seconds that `body` takes.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Samples/s of consecutive stretches of `length` batches after `warmup` batches.
    static func stretchRates(_ ends: [Double], batchSize: Int, warmup: Int, length: Int) -> [Double] {
        var rates: [Double] = []
        var start = warmup
        while start + length < ends.count {
            rates.append(Double(length * batchSize) / (ends[start + length] - ends[start]))
            start += length
        }
        return rates
    }

    static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / (1 << 30)
        return "\(model), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory) GiB"
    }
}
