import Foundation
import Testing
@testable import NeuralNetworks

@Suite(.serialized)
struct CheckpointTests {
    static func model() throws -> Sequential {
        let model = Sequential {
            Bidirectional(LSTM(units: 8, recurrentActivation: .hardSigmoid))
            Dense(units: 10, activation: .softmax)
        }
        try model.build(inputShape: [28, 28], seed: 3)
        return model
    }

    static func optimizer() -> SGD { SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-3) }

    @Test func resumedRunGivesExactlyTheUninterruptedLosses() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let train = data.train.prefix(400), test = data.test.prefix(100)
        let straight = try Self.model().fit(train, validation: test, optimizer: Self.optimizer(), epochs: 3, batchSize: 64, seed: 5)

        let path = try ModelFileTests.temporaryFile("last.safetensors")
        let first = try Self.model(), optimizer = Self.optimizer()
        try first.fit(train, validation: test, optimizer: optimizer, epochs: 1, batchSize: 64, seed: 5,
                      onCheckpoint: { state in try Checkpoint(model: first, optimizer: optimizer, state: state).write(to: path) })
        let checkpoint = try Checkpoint(path: path)
        #expect(checkpoint.state.epoch == 1)
        #expect(checkpoint.optimizer.iterations == 7)
        let resumed = try checkpoint.model.fit(train, validation: test, optimizer: checkpoint.optimizer, epochs: 3,
                                               batchSize: 64, seed: 5, resumeFrom: checkpoint.state)
        #expect(resumed.map(\.trainLoss) == straight.map(\.trainLoss))
        #expect(resumed.map(\.testLoss) == straight.map(\.testLoss))
        #expect(resumed.map(\.epoch) == [1, 2, 3])
    }

    @Test func checkpointKeepsVelocitiesSettingsAndState() throws {
        let model = try Self.model(), optimizer = Self.optimizer()
        let parameter = model.parameters[0]
        optimizer.setVelocity((0..<parameter.count).map { Float($0) / 7 }, for: parameter)
        let state = TrainingState(epoch: 4, shuffler: [1, 2, 3, 4], history: [], elapsedSeconds: 12.5)
        let path = try ModelFileTests.temporaryFile("c.safetensors")
        try Checkpoint(model: model, optimizer: optimizer, state: state, settings: ["seed": "9"]).write(to: path)
        let loaded = try Checkpoint(path: path)
        #expect(loaded.state == state)
        #expect(loaded.settings == ["seed": "9"])
        let sgd = try #require(loaded.optimizer as? SGD)
        #expect(sgd.configuration == optimizer.configuration && sgd.iterations == optimizer.iterations)
        #expect(sgd.velocity(for: loaded.model.parameters[0]) == optimizer.velocity(for: parameter))
        // A checkpoint is also a model file.
        #expect(try Sequential.load(from: path).parameters.map(\.tensor) == model.parameters.map(\.tensor))
    }

    /// A diverged epoch's infinite or NaN loss is kept (JSON has no such numbers): the checkpoint
    /// and a JSON history are written and read back, not refused.
    @Test func aNonFiniteLossIsKeptInTheCheckpointAndTheHistory() throws {
        let history = [EpochReport(epoch: 1, trainLoss: .nan, trainAccuracy: nil, testLoss: .infinity, testAccuracy: nil,
                                   learningRate: 0.1, elapsedSeconds: 1),
                       EpochReport(epoch: 2, trainLoss: 2, trainAccuracy: nil, testLoss: -.infinity, testAccuracy: nil,
                                   learningRate: 0.1, elapsedSeconds: 2)]
        let state = TrainingState(epoch: 2, shuffler: [1, 2, 3, 4], history: history, elapsedSeconds: 2)
        let path = try ModelFileTests.temporaryFile("nonfinite.safetensors")
        try Checkpoint(model: try Self.model(), optimizer: Self.optimizer(), state: state, settings: [:]).write(to: path)
        let loaded = try Checkpoint(path: path).state.history
        #expect(loaded[0].trainLoss.isNaN && loaded[0].testLoss == .infinity && loaded[1].testLoss == -.infinity)
        let json = try ModelFileTests.temporaryFile("nonfinite.json")
        try History.write(history, to: json)
        let read = try History.read(path: json)
        #expect(read[0].trainLoss.isNaN && read[0].testLoss == .infinity && read[1] == history[1])
    }

    /// Any optimizer resumes exactly: the checkpoint stores its type, settings and every slot.
    @Test(arguments: ["Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "Nadam"])
    func resumedRunWithAnyOptimizerGivesExactlyTheUninterruptedLosses(_ name: String) throws {
        func optimizer() -> any Optimizer {
            switch name {
            case "Adam": return Adam(learningRate: 0.003, schedule: .step(every: 3, factor: 0.5))
            case "AdamW": return Adam.adamW(learningRate: 0.003)
            case "RMSprop": return RMSprop(learningRate: 0.001, momentum: 0.5)
            case "Adamax": return Adamax(learningRate: 0.003, weightDecay: 0.001)
            case "Nadam": return Nadam(learningRate: 0.003, schedule: .cosine(steps: 10, minimum: 0))
            default: return Adagrad(learningRate: 0.05, initialAccumulator: 0.1)
            }
        }
        let data = try IDXDirectory(directory: fashionMNIST)
        let train = data.train.prefix(256), test = data.test.prefix(64)
        let straight = try Self.model().fit(train, validation: test, optimizer: optimizer(), epochs: 2, batchSize: 64, seed: 5)
        let path = try ModelFileTests.temporaryFile("\(name).safetensors")
        let first = try Self.model(), firstOptimizer = optimizer()
        try first.fit(train, validation: test, optimizer: firstOptimizer, epochs: 1, batchSize: 64, seed: 5,
                      onCheckpoint: { state in try Checkpoint(model: first, optimizer: firstOptimizer, state: state).write(to: path) })
        let checkpoint = try Checkpoint(path: path)
        #expect(checkpoint.optimizer.typeName == firstOptimizer.typeName)
        let resumed = try checkpoint.model.fit(train, validation: test, optimizer: checkpoint.optimizer, epochs: 2,
                                               batchSize: 64, seed: 5, resumeFrom: checkpoint.state)
        #expect(resumed.map(\.trainLoss) == straight.map(\.trainLoss))
        #expect(resumed.map(\.testLoss) == straight.map(\.testLoss))
    }

    /// Dropout draws from its own stream; the checkpoint holds the stream's state, also mid-epoch.
    @Test func resumedRunWithDropoutGivesExactlyTheUninterruptedLosses() throws {
        func model() throws -> Sequential {
            let model = Sequential { Flatten(); Dense(units: 32, activation: .relu); Dropout(rate: 0.5); Dense(units: 10, activation: .softmax) }
            try model.build(inputShape: [28, 28], seed: 3)
            return model
        }
        let data = try IDXDirectory(directory: fashionMNIST)
        let train = data.train.prefix(512), test = data.test.prefix(64)
        let straight = try model().fit(train, validation: test, optimizer: Adam(), epochs: 3, batchSize: 64, seed: 5)
        let path = try ModelFileTests.temporaryFile("dropout.safetensors")
        let first = try model(), optimizer = Adam()
        var batches = 0
        // Stopped after 11 batches: mid-way through epoch 2.
        try first.fit(train, validation: test, optimizer: optimizer, epochs: 3, batchSize: 64, seed: 5,
                      onBatch: { _ in batches += 1 }, shouldStop: { batches == 11 },
                      onCheckpoint: { state in try Checkpoint(model: first, optimizer: optimizer, state: state).write(to: path) })
        let checkpoint = try Checkpoint(path: path)
        #expect(checkpoint.state.epoch == 1 && checkpoint.state.batchesDone == 3)
        let resumed = try checkpoint.model.fit(train, validation: test, optimizer: checkpoint.optimizer, epochs: 3,
                                               batchSize: 64, seed: 5, resumeFrom: checkpoint.state)
        #expect(resumed.map(\.trainLoss) == straight.map(\.trainLoss))
        #expect(resumed.map(\.testLoss) == straight.map(\.testLoss))
    }

    @Test func checkpointNamingAnUnknownOptimizerIsOneError() throws {
        let model = try Self.model()
        let state = TrainingState(epoch: 1, shuffler: [1, 2, 3, 4], history: [], elapsedSeconds: 1)
        let path = try ModelFileTests.temporaryFile("unknown.safetensors")
        try model.safetensors(metadata: ["optimizer": #"{"type":"Lion","iterations":3}"#,
                                         "training_state": try canonicalJSON(state)]).write(to: path)
        #expect {
            try Checkpoint(path: path)
        } throws: { error in
            "\(error)".contains("unknown optimizer type \"Lion\"")
        }
    }

    @Test func modelFileIsNotACheckpoint() throws {
        let path = try ModelFileTests.temporaryFile("m.safetensors")
        try Self.model().save(to: path)
        #expect(throws: SafetensorsError.self) { try Checkpoint(path: path) }
    }
}
