import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn train`: the reference experiment (bidirectional LSTM → dense softmax) on an IDX data set.
struct Train: ParsableCommand {
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

    @Option(help: "Threads: 2 runs the two LSTM directions on two cores at once, 1 runs them in turn.")
    var threads = 2

    @Option(help: "Train on the first N training images only.")
    var trainLimit: Int?

    @Option(help: "Test on the first N test images only.")
    var testLimit: Int?

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard units >= 1 else { throw ValidationError("--units must be at least 1, got \(units)") }
        guard learningRate.isFinite, learningRate > 0 else {
            throw ValidationError("--learning-rate must be a finite number > 0, got \(learningRate)")
        }
        guard momentum.isFinite, (0..<1).contains(momentum) else {
            throw ValidationError("--momentum must be in [0, 1), got \(momentum)")
        }
        guard decay.isFinite, decay >= 0 else { throw ValidationError("--decay must be a finite number ≥ 0, got \(decay)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let trainLimit, trainLimit < 1 { throw ValidationError("--train-limit must be at least 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1, got \(testLimit)") }
    }

    func run() throws {
        do {
            try train()
        } catch let error as ValidationError {
            throw error
        } catch {
            FileHandle.standardError.write(Data("nn: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    private func train() throws {
        let directory = try IDXDirectory(directory: data)
        let trainSet = directory.train.prefix(trainLimit)
        let testSet = directory.test.prefix(testLimit)

        // One direction per core, each with single-threaded BLAS (OpenBLAS's count is process-wide).
        BLAS.threadCount = 1
        let model = Sequential {
            Bidirectional(LSTM(units: units, recurrentActivation: recurrentActivation.activation), parallel: threads >= 2)
            Dense(units: trainSet.classCount, activation: .softmax)
        }
        try model.build(inputShape: [trainSet.rows, trainSet.columns], seed: seed)
        print(model.summary(), terminator: "")
        let optimizer = SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, decay: decay)
        let progress = ProgressBar.make(epochs: epochs)
        try model.fit(trainSet, validation: testSet, loss: .categoricalCrossEntropy, optimizer: optimizer,
                      epochs: epochs, batchSize: batchSize, seed: seed,
                      onBatch: progress.map { bar in { bar.update($0) } },
                      onEpoch: { report in
                          progress?.clear()
                          print(report.line)
                          fflush(nil)
                      })
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
