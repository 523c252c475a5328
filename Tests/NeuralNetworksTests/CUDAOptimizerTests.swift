import Foundation
import Testing
@testable import NeuralNetworks

/// Every optimizer with a device kernel (``CUDAOptimizer``) updates a model trained as a whole on
/// the GPU (the CUDA simulator) as the CPU's optimizer does, keeps its slots there, and gives
/// them back to the host for checkpoints.
struct CUDAOptimizerTests {
    static let optimizers: [(String, @Sendable () -> any Optimizer)] = [
        ("Adam with L2 weight decay", { Adam(learningRate: 0.01, weightDecay: 0.01) }),
        ("AdamW on a step schedule", { Adam.adamW(learningRate: 0.02, schedule: .step(every: 3, factor: 0.5)) }),
        ("RMSprop with momentum and weight decay", { RMSprop(learningRate: 0.005, momentum: 0.5, weightDecay: 0.001) }),
        ("Adagrad from an initial accumulator", { Adagrad(learningRate: 0.1, initialAccumulator: 0.1) }),
        ("SGD on a cosine schedule", { SGD(learningRate: 0.3, momentum: 0.9, schedule: .cosine(steps: 8, minimum: 0.01)) }),
        ("Adamax with weight decay", { Adamax(learningRate: 0.02, weightDecay: 0.01) }),
        ("Nadam with weight decay, a faster momentum warm-up", { Nadam(learningRate: 0.01, weightDecay: 0.01, momentumDecay: 0.05) }),
    ]

    @Test(arguments: 0..<7)
    func everyDeviceOptimizerTrainsAsTheCPUDoes(optimizer index: Int) throws {
        let (name, optimizer) = Self.optimizers[index]
        try CUDAModelTests.expectSameRun(name, {
            Sequential { Bidirectional(LSTM(units: 5)); Dense(units: 8, activation: .relu); Dense(units: 5, activation: .softmax) }
        }, optimizer: optimizer)
    }

    /// A run with Adam stopped after its third batch and resumed from the checkpoint's state (the
    /// parameters, Adam's moments and step count) ends where the uninterrupted run does: `fit`
    /// stores the device's moments before the checkpoint reads them, and loads them when it resumes.
    @Test func aStoppedAdamRunResumesExactly() throws {
        func model() throws -> Sequential {
            let model = Sequential { LSTM(units: 6); Dense(units: 5, activation: .softmax) }
            try model.build(inputShape: [6, 5], seed: 3)
            model.backend = try CUDAModelTests.backend()
            return model
        }
        let data = try CUDAModelTests.data()
        let whole = try model()
        try whole.fit(data, optimizer: Adam(learningRate: 0.01), epochs: 2, batchSize: 16, seed: 1)

        let first = try model(), optimizer = Adam(learningRate: 0.01)
        var batches = 0, saved: TrainingState?
        try first.fit(data, optimizer: optimizer, epochs: 2, batchSize: 16, seed: 1, onBatch: { _ in batches += 1 },
                      shouldStop: { batches == 3 }, onCheckpoint: { saved = $0 })
        let state = try #require(saved)
        let second = try model(), resumed = Adam(learningRate: 0.01)
        for (target, source) in zip(second.parameters, first.parameters) {
            target.tensor = source.tensor
            for slot in Adam.slotNames { resumed.state.setValues(optimizer.state.values(slot, for: source), slot, for: target) }
        }
        #expect(optimizer.iterations == 3)
        #expect(first.trainableParameters.allSatisfy { optimizer.state.values("v", for: $0).contains { $0 != 0 } })
        resumed.iterations = optimizer.iterations
        try second.fit(data, optimizer: resumed, epochs: 2, batchSize: 16, seed: 1, resumeFrom: state)
        CUDAModelTests.expectClose(whole.parameters.map(\.tensor.scalars), second.parameters.map(\.tensor.scalars), "resumed")
    }

    /// An optimizer of the user's own without a device kernel: the model trains layer by layer
    /// through the backend (the optimizer on the host), as the CPU trains it.
    @Test func anOptimizerWithoutADeviceKernelTrainsLayerByLayer() throws {
        final class HalvingSGD: Optimizer {
            static let typeName = "HalvingSGD"
            static let slotNames: [String] = []
            struct Configuration: Codable, Sendable {}
            var configuration: Configuration { Configuration() }
            init() {}
            init(configuration: Configuration) {}
            var iterations = 0
            let state = OptimizerState()
            func learningRate(iteration: Int) -> Float { 0.2 / Float(1 + iteration / 4) }
            func update(_ parameters: [Parameter]) {
                let lr = currentLearningRate
                for parameter in parameters where parameter.isTrainable {
                    for i in 0..<parameter.count { parameter.values[i] -= lr * parameter.gradients[i] }
                }
                iterations += 1
            }
        }
        let makeModel = { Sequential { LSTM(units: 5); Dense(units: 5, activation: .softmax) } }
        let backend = try CUDAModelTests.backend()
        let cpu = try CUDAModelTests.train(makeModel, on: CPUBackend(), optimizer: HalvingSGD())
        let gpu = try CUDAModelTests.train(makeModel, on: backend, optimizer: HalvingSGD())
        #expect(backend.failure == nil && !gpu.onDevice)
        CUDAModelTests.expectClose(cpu.parameters, gpu.parameters, "a host optimizer")
        #expect(!((HalvingSGD() as any Optimizer) is any CUDAOptimizer))
    }
}
