import Testing
@testable import NeuralNetworks

@Suite(.serialized)
struct NumericalFaultTests {
    static func data() throws -> (Dataset, Dataset) {
        let data = try IDXDirectory(directory: fashionMNIST)
        return (data.train.prefix(512), data.test.prefix(64))
    }

    static func model() throws -> Sequential {
        let model = Sequential { Bidirectional(LSTM(units: 8)); Dense(units: 10, activation: .softmax) }
        try model.build(inputShape: [28, 28], seed: 2)
        return model
    }

    @Test func weightTurningNaNStopsTrainingWithEpochBatchAndAdvice() throws {
        let (train, test) = try Self.data()
        let model = try Self.model()
        let dense = model.layers[1] as! Dense
        var checkpoints = 0
        #expect(throws: TrainingError(epoch: 2, batch: 4, location: "loss")) {
            // A fault in the middle of the second epoch: a weight becomes NaN after its third batch.
            try model.fit(train, validation: test, optimizer: SGD(learningRate: 0.1), epochs: 3, batchSize: 64,
                          onBatch: { if $0.epoch == 2 && $0.samplesDone == 192 { dense.kernel.value[0] = .nan } },
                          onCheckpoint: { _ in checkpoints += 1 })
        }
        #expect(checkpoints == 1)  // the first epoch's, untouched by the fault
        #expect("\(TrainingError(epoch: 2, batch: 4, location: "loss"))".contains("--clip-norm"))
    }

    /// An update that overflows the weights in an epoch's last batch has no next loss to show it:
    /// the epoch stops before its report and checkpoint, naming the parameter (a saved model with
    /// infinite weights would not load).
    @Test func valuesOverflowedByTheLastUpdateStopTheEpochBeforeItIsKept() throws {
        let (train, test) = try Self.data()
        let model = try Self.model()
        let dense = model.layers[1] as! Dense
        var checkpoints = 0
        #expect(throws: TrainingError(epoch: 1, batch: 8, location: "dense.bias", afterUpdate: true)) {
            try model.fit(train, validation: test, optimizer: SGD(learningRate: 0.1), epochs: 2, batchSize: 64,
                          onBatch: { if $0.samplesDone == 512 { dense.bias!.value[3] = .infinity } },
                          onCheckpoint: { _ in checkpoints += 1 })
        }
        #expect(checkpoints == 0)
        #expect("\(TrainingError(epoch: 1, batch: 8, location: "dense.bias", afterUpdate: true))"
                    .hasPrefix("dense.bias is not finite (NaN or infinity) after the updates of epoch 1"))
    }

    @Test func nonFiniteInputIsCaughtBeforeTheUpdate() throws {
        let model = try Self.model()
        var inputs = Tensor(zeros: [2, 28, 28])
        inputs.scalars[5] = .nan
        let before = model.parameters.map(\.tensor)
        #expect(throws: TrainingError(epoch: 3, batch: 7, location: "loss")) {
            try model.trainStep(inputs, labels: [1, 2], loss: .categoricalCrossEntropy, optimizer: SGD(learningRate: 0.1),
                                epoch: 3, batch: 7)
        }
        #expect(model.parameters.map(\.tensor) == before)
    }

    @Test func clippingBoundsTheGlobalNorm() {
        let a = Parameter(name: "a", shape: [2]), b = Parameter(name: "b", shape: [1])
        a.gradient[0] = 3
        a.gradient[1] = 0
        b.gradient[0] = 4  // global norm 5
        let norms = GradientNorm.squaredNorms([a, b])
        #expect(norms == [9, 16])
        #expect(GradientNorm.clip([a, b], maxNorm: 1, squaredNorms: norms) == 5)
        let clipped = GradientNorm.squaredNorms([a, b]).reduce(0, +).squareRoot()
        #expect(abs(clipped - 1) < 1e-5)
        #expect(abs(a.gradient[0] / b.gradient[0] - 0.75) < 1e-6)
        // Below the bound nothing changes.
        GradientNorm.clip([a, b], maxNorm: 10, squaredNorms: GradientNorm.squaredNorms([a, b]))
        #expect(abs(GradientNorm.squaredNorms([a, b]).reduce(0, +).squareRoot() - 1) < 1e-5)
    }

    @Test func clippedTrainingSurvivesARateThatDivergesWithoutIt() throws {
        let (train, test) = try Self.data()
        let history = try Self.model().fit(train, validation: test, optimizer: SGD(learningRate: 3, momentum: 0.9),
                                           epochs: 1, batchSize: 64, clipNorm: 0.5)
        #expect(history[0].trainLoss.isFinite && history[0].testLoss!.isFinite)
    }

    @Test func stopMidEpochThenResumeGivesTheUninterruptedLosses() throws {
        let (train, test) = try Self.data()
        let straight = try Self.model().fit(train, validation: test, optimizer: SGD(learningRate: 0.1, momentum: 0.9),
                                            epochs: 2, batchSize: 64, seed: 4)
        let model = try Self.model(), optimizer = SGD(learningRate: 0.1, momentum: 0.9)
        var batches = 0
        var saved: TrainingState?
        let partial = try model.fit(train, validation: test, optimizer: optimizer, epochs: 2, batchSize: 64, seed: 4,
                                    onBatch: { _ in batches += 1 }, shouldStop: { batches == 11 },
                                    onCheckpoint: { saved = $0 })
        let state = try #require(saved)
        #expect(partial.count == 1 && state.epoch == 1 && state.batchesDone == 3)
        let resumed = try model.fit(train, validation: test, optimizer: optimizer, epochs: 2, batchSize: 64, seed: 4,
                                    resumeFrom: state)
        #expect(resumed.map(\.trainLoss) == straight.map(\.trainLoss))
        #expect(resumed.map(\.testLoss) == straight.map(\.testLoss))
    }
}
