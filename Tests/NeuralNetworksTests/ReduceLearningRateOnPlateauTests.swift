import Foundation
import Testing
@testable import NeuralNetworks

/// Lowering the learning rate on a plateau of the validation loss, with Keras' `ReduceLROnPlateau`
/// rule, in `fit` (where a resumed run lowers it as the uninterrupted one) and in `nn train`.
struct ReduceLearningRateOnPlateauTests {
    static func lowered(_ rule: ReduceLearningRateOnPlateau, _ losses: [Float?]) -> (rate: Float, loweredAfter: [Int]) {
        rule.learningRate(after: EarlyStoppingTests.history(losses), initial: 0.1)
    }

    @Test func lowersAfterPatienceEpochsWithoutImprovementAsKerasDoes() throws {
        let rule = try ReduceLearningRateOnPlateau(factor: 0.5, patience: 2, minDelta: 0)
        // Epochs 3 and 4 do not improve on 0.9: lowered after 4; then 5 and 6 do not: after 6.
        let result = Self.lowered(rule, [1, 0.9, 0.95, 0.92, 0.91, 0.95, 0.8])
        #expect(result.loweredAfter == [4, 6] && result.rate == 0.025)
        // A NaN loss is no improvement; an epoch without a test loss counts for nothing.
        #expect(Self.lowered(try ReduceLearningRateOnPlateau(factor: 0.5, patience: 1), [1, .nan]).loweredAfter == [2])
        #expect(Self.lowered(rule, [nil, nil, nil, nil]).loweredAfter.isEmpty)
        // An improvement must beat the best by more than min_delta.
        #expect(Self.lowered(try ReduceLearningRateOnPlateau(factor: 0.5, patience: 1, minDelta: 0.1), [1, 0.95]).loweredAfter == [2])
    }

    @Test func cooldownAndTheMinimumRateHoldItBack() throws {
        // After each lowering, two epochs of cooldown count toward nothing (Keras' counter).
        let cooling = try ReduceLearningRateOnPlateau(factor: 0.5, patience: 1, cooldown: 2)
        #expect(Self.lowered(cooling, [1, 2, 2, 2, 2, 2]).loweredAfter == [2, 4, 6])
        // 0.1 → 0.01 → 0.005 (not 0.001), then no lower.
        let floored = try ReduceLearningRateOnPlateau(factor: 0.1, patience: 1, minimumLearningRate: 0.005)
        let result = Self.lowered(floored, [1, 2, 2, 2])
        #expect(result.loweredAfter == [2, 3] && result.rate == 0.005)
        #expect(throws: ShapeError.self) { try ReduceLearningRateOnPlateau(factor: 1) }
        #expect(throws: ShapeError.self) { try ReduceLearningRateOnPlateau(patience: -1) }
    }

    /// Training on labels the validation set contradicts: its loss rises, the rate is halved, and
    /// each epoch's rate in the history is the rule's. A run continued from its third epoch with a
    /// new optimizer (as a checkpoint restores it) gives the same history.
    @Test func fitLowersTheRateAndAResumedRunLowersItTheSame() throws {
        var generator = RandomGenerator(seed: 3)
        let x = (0..<(64 * 4)).map { _ in Float(generator.normal()) }
        let labels = (0..<64).map { x[$0 * 4] > 0 ? 1 : 0 }
        let inputs = FloatSamples(values: x, sampleShape: [4])
        let train = try Dataset(inputs: inputs, labels: labels, classCount: 2)
        let contradicting = try Dataset(inputs: inputs, labels: labels.map { 1 - $0 }, classCount: 2)
        let rule = try ReduceLearningRateOnPlateau(factor: 0.5, patience: 1)
        func run(epochs: Int, from state: TrainingState? = nil, model: Sequential? = nil, iterations: Int = 0)
            throws -> (Sequential, [EpochReport], TrainingState?) {
            let model = try model ?? ModelSpec.model("dense(8, relu) dense(2, softmax)")
            let optimizer = SGD(learningRate: 0.2)
            optimizer.iterations = iterations
            var last: TrainingState?
            let reports = try model.fit(train, validation: contradicting, optimizer: optimizer, epochs: epochs, batchSize: 16,
                                        seed: 4, resumeFrom: state, reduceLearningRateOnPlateau: rule, onCheckpoint: { last = $0 })
            return (model, reports, last)
        }
        let (_, whole, _) = try run(epochs: 6)
        let lowered = rule.learningRate(after: whole, initial: 0.2).loweredAfter
        #expect(!lowered.isEmpty, "\(whole.map(\.testLoss))")
        for (index, report) in whole.enumerated() {
            let expected = rule.learningRate(after: Array(whole[..<index]), initial: 0.2).rate
            #expect(abs(report.learningRate - expected) <= 1e-7, "epoch \(report.epoch)")
        }
        let (model, _, third) = try run(epochs: 3)
        let (_, continued, _) = try run(epochs: 6, from: third, model: model, iterations: 3 * 4)
        func figures(_ reports: [EpochReport]) -> [[Float?]] {
            reports.map { [Float($0.epoch), $0.trainLoss, $0.testLoss, $0.learningRate] }
        }
        #expect(figures(continued) == figures(whole))
        #expect(throws: ShapeError.self) {
            try ModelSpec.model("dense(2, softmax)").fit(train, optimizer: SGD(learningRate: 0.2), epochs: 1,
                                                         reduceLearningRateOnPlateau: rule)
        }
        // The factor a rule left is the next fit's only with the rule (from that fit's history):
        // without one, the optimizer trains at its own rate.
        let optimizer = SGD(learningRate: 0.2)
        try model.fit(train, validation: contradicting, optimizer: optimizer, epochs: 3, batchSize: 16, reduceLearningRateOnPlateau: rule)
        #expect(optimizer.state.learningRateFactor < 1)
        try model.fit(train, optimizer: optimizer, epochs: 1, batchSize: 16)
        #expect(optimizer.state.learningRateFactor == 1 && optimizer.currentLearningRate == 0.2)
        // A base rate of 0 stays 0 (no NaN from the factor).
        let still = SGD(learningRate: 0)
        try model.fit(train, validation: contradicting, optimizer: still, epochs: 3, batchSize: 16, reduceLearningRateOnPlateau: rule)
        #expect(still.state.learningRateFactor == 1)
    }

    /// `--reduce-lr-on-plateau` says when it lowers the rate, and the history shows it; the
    /// checkpoint keeps the rule (another is refused on resume); a bad setting names itself.
    @Test func theTrainCommandLowersTheRateAndKeepsTheRule() throws {
        let folder = try TrainCommandTests.folder()
        let result = try CLI.run(["train", "--units", "8", "--epochs", "4", "--reduce-lr-on-plateau", "0,factor=0.5,min_delta=100",
                                  "--checkpoint", folder] + TrainCommandTests.quick)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("the test loss has not improved for 1 epoch: base learning rate lowered to 0.05\n"),
                "\(result.stdout)")
        let history = try String(contentsOfFile: folder + "/history.csv", encoding: .utf8)
        let rates = history.split(separator: "\n").dropFirst().map { Float($0.split(separator: ",")[5])! }
        // Epoch 1 improves (on nothing), 2 and later do not: each later epoch runs at half the rate before.
        #expect(rates.count == 4 && rates[1] > rates[0] * 0.99 && rates[2] < rates[1] * 0.51 && rates[3] < rates[2] * 0.51,
                "\(history)")
        let other = try CLI.run(["train", "--resume", folder, "--epochs", "5", "--reduce-lr-on-plateau", "2"])
        #expect(other.status == 1 && other.stderr.contains("--reduce-lr-on-plateau 2,factor=0.1"), "\(other.stderr)")
        for bad in ["", "x", "2,factor=1", "2,foo=3", "factor=0.5", ",factor=0.5"] {
            let refused = try CLI.run(["train", "--reduce-lr-on-plateau", bad])
            #expect(refused.status != 0 && refused.stderr.contains("--reduce-lr-on-plateau takes PATIENCE"), "\(bad): \(refused.stderr)")
        }
    }
}
