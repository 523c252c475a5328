import Testing
@testable import NeuralNetworks

/// Early stopping on the validation loss, with Keras' rule: an improvement is a loss below the
/// best by more than `min_delta`; stop after the `patience`-th epoch in a row without one.
struct EarlyStoppingTests {
    static func history(_ losses: [Float?]) -> [EpochReport] {
        losses.enumerated().map { index, loss in
            EpochReport(epoch: index + 1, trainLoss: 1, trainAccuracy: nil, testLoss: loss, testAccuracy: nil,
                        learningRate: 0.1, elapsedSeconds: Double(index))
        }
    }

    @Test func stopsAfterPatienceEpochsInARowWithoutImprovement() {
        let rule = EarlyStopping(patience: 2)
        #expect(!rule.stops(after: Self.history([1, 0.9, 0.95])))
        #expect(rule.stops(after: Self.history([1, 0.9, 0.95, 0.92])))
        #expect(rule.best(in: Self.history([1, 0.9, 0.95, 0.92]))?.report.epoch == 2)
        #expect(!rule.stops(after: Self.history([1, 0.9, 0.95, 0.89])))
        // A NaN loss is no improvement; patience 0 stops at the first epoch without one, as 1 does.
        #expect(EarlyStopping(patience: 0).stops(after: Self.history([1, .nan])))
        #expect(EarlyStopping(patience: 1).stops(after: Self.history([1, .nan])))
        #expect(!EarlyStopping(patience: 0).stops(after: Self.history([1])))
        #expect(!rule.stops(after: Self.history([nil, nil, nil, nil])))
    }

    @Test func anImprovementMustExceedTheMinimumDelta() {
        let rule = EarlyStopping(patience: 2, minDelta: 0.1)
        // 0.95 and 0.93 are within 0.1 of 1: no improvement, so the best stays epoch 1.
        #expect(rule.stops(after: Self.history([1, 0.95, 0.93])))
        #expect(rule.best(in: Self.history([1, 0.95, 0.93]))?.report.epoch == 1)
        #expect(!rule.stops(after: Self.history([1, 0.95, 0.85])))
    }

    /// Training on labels the validation set contradicts: its loss rises after the first epochs,
    /// and fit returns early (of 40 epochs); a resumed run with the same rule does nothing more.
    @Test func fitEndsWhenTheValidationLossStopsImproving() throws {
        var generator = RandomGenerator(seed: 3)
        let x = (0..<(64 * 4)).map { _ in Float(generator.normal()) }
        let labels = (0..<64).map { x[$0 * 4] > 0 ? 1 : 0 }
        let inputs = FloatSamples(values: x, sampleShape: [4])
        let train = try Dataset(inputs: inputs, labels: labels, classCount: 2)
        let contradicting = try Dataset(inputs: inputs, labels: labels.map { 1 - $0 }, classCount: 2)
        let model = try ModelSpec.model("dense(8, relu) dense(2, softmax)")
        let rule = EarlyStopping(patience: 2)
        var last: TrainingState?
        let reports = try model.fit(train, validation: contradicting, optimizer: SGD(learningRate: 0.2), epochs: 40,
                                    batchSize: 16, earlyStopping: rule, onCheckpoint: { last = $0 })
        #expect(reports.count < 40 && rule.stops(after: reports))
        let best = try #require(rule.best(in: reports))
        #expect(best.epochsSince == 2 && reports.count == best.report.epoch + 2)
        let resumed = try model.fit(train, validation: contradicting, optimizer: SGD(learningRate: 0.2), epochs: 40,
                                    batchSize: 16, resumeFrom: last, earlyStopping: rule)
        #expect(resumed == reports)
        #expect(throws: ShapeError.self) {
            try model.fit(train, optimizer: SGD(learningRate: 0.2), epochs: 2, earlyStopping: rule)
        }
    }
}
