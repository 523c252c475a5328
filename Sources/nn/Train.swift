import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn train`: the reference experiment (bidirectional LSTM → dense softmax) on an IDX data set.
struct Train: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a bidirectional LSTM classifier on an IDX image data set.",
        discussion: """
            Each image is a sequence: rows are time steps, columns are features. The defaults \
            reproduce the reference experiment: Bidirectional(LSTM(128)) → Dense(10, softmax), \
            SGD with Nesterov momentum, batch 128, 30 epochs. After each epoch one line reports \
            train / test loss and accuracy and the seconds since training started.
            """)

    @Option(help: "Directory with train-images, train-labels, t10k-images and t10k-labels IDX files (raw or .gz).")
    var data = "/usr/share/datasets/fashion-mnist"

    @Option(help: "Passes over the training set.")
    var epochs = 30

    @Option(help: "Samples per gradient step.")
    var batchSize = 128

    @Option(help: "LSTM units per direction.")
    var units = 128

    @Option(help: "SGD learning rate before decay.")
    var learningRate: Float = 0.1

    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(inversion: .prefixedNo, help: "Nesterov momentum.")
    var nesterov = true

    @Option(help: "Learning-rate decay per update: lr / (1 + decay · iterations) (Keras 2).")
    var decay: Float = 1e-6

    @Option(help: "LSTM gate activation: hard-sigmoid (Keras 2's clip(0.2x + 0.5, 0, 1), the reference's), sigmoid (PyTorch's, Keras 3's), tanh, relu, linear.")
    var recurrentActivation: GateActivation = .hardSigmoid

    @Option(help: "Seed of every random stream (initialisation, shuffling): the same seed and thread count give the same losses.")
    var seed: UInt64 = 0

    @Option(help: "Threads: 2 runs the two LSTM directions on two cores at once, 1 runs them in turn; more split each direction's batch rows over threads / 2 cores.")
    var threads = 2

    @Option(help: "Write the trained model here (safetensors) at the end.")
    var save: String?

    @Option(help: "Directory for checkpoints after every epoch: last.safetensors, best.safetensors (lowest test loss), history.csv, history.json.")
    var checkpoint: String?

    @Option(help: "Continue the run checkpointed in this directory (its settings, weights, optimizer and shuffling state) up to --epochs.")
    var resume: String?

    @Option(help: "Write the per-epoch history here after every epoch (.json: JSON, otherwise CSV).")
    var history: String?

    @Option(help: "Scale gradients to at most this global norm before each update (e.g. 1.0).")
    var clipNorm: Float?

    @Option(help: "Matrix products of the LSTM: float32, or bf16 (bfloat16 products with float32 accumulation and float32 weights; AVX512-BF16 CPUs, float32 elsewhere).")
    var precision: Precision = .float32

    @Option(help: "Train on the first N training images only.")
    var trainLimit: Int?

    @Option(help: "Test on the first N test images only.")
    var testLimit: Int?

    func validate() throws {
        func require(_ ok: Bool, _ flag: String, _ range: String, _ value: Any) throws {
            guard ok else { throw ValidationError("\(flag) must be \(range), got \(value)") }
        }
        try require((1...1_000_000).contains(epochs), "--epochs", "in 1...1000000", epochs)
        try require((1...65_536).contains(batchSize), "--batch-size", "in 1...65536", batchSize)
        try require((1...16_384).contains(units), "--units", "in 1...16384", units)
        try require(learningRate.isFinite && learningRate > 0, "--learning-rate", "a finite number > 0", learningRate)
        try require(momentum.isFinite && (0..<1).contains(momentum), "--momentum", "in [0, 1)", momentum)
        try require(decay.isFinite && decay >= 0, "--decay", "a finite number ≥ 0", decay)
        try require((1...256).contains(threads), "--threads", "in 1...256", threads)
        if let trainLimit { try require(trainLimit >= 1, "--train-limit", "at least 1", trainLimit) }
        if let testLimit { try require(testLimit >= 1, "--test-limit", "at least 1", testLimit) }
        if let clipNorm { try require(clipNorm.isFinite && clipNorm > 0, "--clip-norm", "a finite number > 0", clipNorm) }
        if resume != nil && (trainLimit != nil || testLimit != nil) {
            throw ValidationError("--resume takes its data settings from the checkpoint: drop --train-limit/--test-limit")
        }
    }

    func execute() throws {
        // One direction per core, each with single-threaded BLAS (OpenBLAS's count is process-wide).
        BLAS.threadCount = 1
        var settings = ["data": data, "batch_size": "\(batchSize)", "seed": "\(seed)"]
        if let clipNorm { settings["clip_norm"] = "\(clipNorm)" }
        settings["precision"] = precision.rawValue
        if let trainLimit { settings["train_limit"] = "\(trainLimit)" }
        if let testLimit { settings["test_limit"] = "\(testLimit)" }
        var resumed: Checkpoint?
        if let resume {
            let checkpoint = try Checkpoint(path: (resume as NSString).appendingPathComponent("last.safetensors"))
            // The run's own settings, except a clipping norm given now (it is kept from here on).
            settings = checkpoint.settings.merging(clipNorm.map { ["clip_norm": "\($0)"] } ?? [:]) { $1 }
            resumed = checkpoint
        }
        // A checkpoint's settings come from a file: each is checked like the flag it stands for.
        let invalid = CommandError("\(resume ?? "checkpoint"): the checkpoint's run settings are missing or invalid")
        func positive(_ key: String) throws -> Int? {
            guard let text = settings[key] else { return nil }
            guard let value = Int(text), value > 0 else { throw invalid }
            return value
        }
        let runClipNorm = settings["clip_norm"].flatMap(Float.init)
        guard let dataDirectory = settings["data"], let batch = try positive("batch_size"),
              let runSeed = settings["seed"].flatMap(UInt64.init),
              settings["clip_norm"] == nil || runClipNorm.map({ $0.isFinite && $0 > 0 }) == true else { throw invalid }
        let trainLimit = try positive("train_limit"), testLimit = try positive("test_limit")
        let directory = try IDXDirectory(directory: dataDirectory)
        let trainSet = directory.train.prefix(trainLimit)
        let testSet = directory.test.prefix(testLimit)

        let model: Sequential, optimizer: any Optimizer
        if let resumed {
            (model, optimizer) = (resumed.model, resumed.optimizer)
            try model.requireInput(rows: trainSet.rows, columns: trainSet.columns, data: dataDirectory)
        } else {
            model = Sequential {
                Bidirectional(LSTM(units: units, recurrentActivation: recurrentActivation.activation))
                Dense(units: trainSet.classCount, activation: .softmax)
            }
            try model.build(inputShape: [trainSet.rows, trainSet.columns], seed: runSeed)
            optimizer = SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, decay: decay)
        }
        model.threads = threads
        model.precision = settings["precision"].flatMap(Precision.init(rawValue:)) ?? .float32
        if model.precision == .bfloat16 && !Precision.bfloat16Supported {
            FileHandle.standardError.write(Data("nn: this CPU has no AVX512-BF16: bf16 runs as float32\n".utf8))
        }
        print(model.summary(), terminator: "")
        if let state = resumed?.state {
            for report in state.history { print(report.line) }
            if state.epoch >= epochs { print("nothing to do: the checkpoint has \(state.epoch) epochs, --epochs is \(epochs)") }
        }

        // Ctrl-C or SIGTERM: finish the batch, checkpoint (here if no directory was named), say how to resume.
        let stop = StopRequest.install()
        let checkpointDirectory = checkpoint ?? resume
        let interruptDirectory = checkpointDirectory ?? "nn-checkpoint"
        AtomicFile.removeStaleTemporaries(in: interruptDirectory)
        var bestLoss = resumed?.state.history.compactMap(\.testLoss).min() ?? .infinity
        let progress = ProgressBar.make(epochs: epochs)
        let start = Date()
        let doneBefore = resumed?.state.epoch ?? 0
        let reports = try model.fit(
            trainSet, validation: testSet, loss: .categoricalCrossEntropy, optimizer: optimizer,
            epochs: epochs, batchSize: batch, seed: runSeed, clipNorm: runClipNorm,
            resumeFrom: resumed?.state,
            onBatch: progress.map { bar in { bar.update($0) } },
            onEpoch: { report in
                progress?.clear()
                print(report.line)
                fflush(nil)
            },
            shouldStop: { stop.signal != nil },
            onCheckpoint: { state in
                let directory = checkpointDirectory ?? (stop.signal != nil ? interruptDirectory : nil)
                if let directory {
                    // Mid-epoch (after a signal) the state holds the position within the epoch.
                    let checkpoint = Checkpoint(model: model, optimizer: optimizer, state: state, settings: settings)
                    let folder = directory as NSString
                    try checkpoint.write(to: folder.appendingPathComponent("last.safetensors"))
                    if state.batchesDone == 0, let loss = state.history.last?.testLoss, loss < bestLoss {
                        bestLoss = loss
                        try checkpoint.write(to: folder.appendingPathComponent("best.safetensors"))
                    }
                    try History.write(state.history, to: folder.appendingPathComponent("history.csv"))
                    try History.write(state.history, to: folder.appendingPathComponent("history.json"))
                }
                if let history { try History.write(state.history, to: history) }
            })
        if let signal = stop.signal, (reports.last?.epoch ?? 0) < epochs {
            progress?.clear()
            printError("interrupted (signal \(signal)); checkpoint in \(interruptDirectory)/last.safetensors; "
                       + "continue with: nn train --resume \(interruptDirectory) --epochs \(epochs)")
            throw ExitCode(128 + signal)
        }
        if let save { try model.save(to: save) }
        if let best = reports.filter({ $0.testAccuracy != nil }).max(by: { $0.testAccuracy! < $1.testAccuracy! }),
           reports.count > doneBefore {
            let seconds = Date().timeIntervalSince(start)
            let samples = Double((reports.count - doneBefore) * trainSet.count)
            print(String(format: "best test accuracy %.4f at epoch %d; %.2f s in all; %.0f training samples/s",
                         best.testAccuracy!, best.epoch, reports.last!.elapsedSeconds, samples / seconds))
        }
    }
}

enum GateActivation: String, ExpressibleByArgument, CaseIterable {
    case hardSigmoid = "hard-sigmoid"
    case sigmoid, tanh, relu, linear

    var activation: Activation {
        switch self {
        case .hardSigmoid: return .hardSigmoid
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .relu: return .relu
        case .linear: return .linear
        }
    }
}
