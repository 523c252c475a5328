import Testing
@testable import NeuralNetworks

@Suite(.serialized)
struct TrainingTests {
    static func run(seed: UInt64, epochs: Int, trainCount: Int, testCount: Int, units: Int = 128) throws -> [EpochReport] {
        let data = try IDXDirectory(directory: fashionMNIST)
        let model = Sequential {
            Bidirectional(LSTM(units: units, recurrentActivation: .hardSigmoid))
            Dense(units: 10, activation: .softmax)
        }
        let optimizer = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-6)
        return try model.fit(data.train.prefix(trainCount), validation: data.test.prefix(testCount),
                             optimizer: optimizer, epochs: epochs, batchSize: 128, seed: seed)
    }

    @Test func referenceModelLearnsFashionMNIST() throws {
        let history = try Self.run(seed: 1, epochs: 3, trainCount: 2000, testCount: 1000)
        #expect(history.count == 3)
        #expect(history[2].trainLoss < history[0].trainLoss)
        #expect(history[2].testLoss! < history[0].testLoss!)
        #expect(history[2].testAccuracy! > 0.6)
    }

    /// The same images as vectors: Flatten, then the reference library's ReLU MLP with dropout.
    @Test func multilayerPerceptronWithDropoutLearnsFashionMNIST() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let model = Sequential {
            Flatten()
            Dense(units: 128, activation: .relu)
            Dropout(rate: 0.2)
            Dense(units: 10, activation: .softmax)
        }
        let history = try model.fit(data.train.prefix(2000), validation: data.test.prefix(500),
                                    optimizer: SGD(learningRate: 0.1, momentum: 0.9, nesterov: true),
                                    epochs: 3, batchSize: 64, seed: 3)
        #expect(history[2].trainLoss < history[0].trainLoss)
        #expect(history[2].testAccuracy! > 0.7)
    }

    /// The reference's perceptron: sigmoid outputs against one-hot targets under mean squared error.
    @Test func sigmoidOutputsLearnUnderMeanSquaredError() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let model = Sequential { Flatten(); Dense(units: 10, activation: .sigmoid) }
        let history = try model.fit(data.train.prefix(2000), validation: data.test.prefix(500), loss: .meanSquaredError,
                                    optimizer: SGD(learningRate: 0.5), epochs: 3, batchSize: 32, seed: 3)
        #expect(history[2].trainLoss < history[0].trainLoss)
        #expect(history[2].testAccuracy! > 0.6)
    }

    @Test func evaluationCountsEveryPredictionInItsConfusionMatrix() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let model = Sequential { Bidirectional(LSTM(units: 8)); Dense(units: 10, activation: .softmax) }
        try model.build(inputShape: [28, 28], seed: 1)
        let test = data.test.prefix(300)
        let evaluation = try model.evaluate(test, batchSize: 64)
        let matrix = evaluation.confusionMatrix
        #expect(matrix.count == 10 && matrix.allSatisfy { $0.count == 10 })
        #expect(matrix.joined().reduce(0, +) == 300)
        let diagonal = (0..<10).reduce(0) { $0 + matrix[$1][$1] }
        #expect(Float(diagonal) / 300 == evaluation.accuracy)
        for label in 0..<10 { #expect(matrix[label].reduce(0, +) == test.labels.filter { $0 == label }.count) }
    }

    @Test func sameSeedGivesBitIdenticalLosses() throws {
        let a = try Self.run(seed: 7, epochs: 2, trainCount: 512, testCount: 256, units: 32)
        let b = try Self.run(seed: 7, epochs: 2, trainCount: 512, testCount: 256, units: 32)
        let c = try Self.run(seed: 8, epochs: 2, trainCount: 512, testCount: 256, units: 32)
        #expect(a.map(\.trainLoss) == b.map(\.trainLoss))
        #expect(a.map(\.testLoss) == b.map(\.testLoss))
        #expect(a.map(\.trainLoss) != c.map(\.trainLoss))
    }

    @Test func epochLineHasTheReferenceFormat() {
        let report = EpochReport(epoch: 1, trainLoss: 0.34871, trainAccuracy: 0.96594, testLoss: 0.11524,
                                 testAccuracy: 0.96181, learningRate: 0.1, elapsedSeconds: 107.814)
        #expect(report.line == "loss: 0.3487 / 0.1152\taccuracy: 0.9659 / 0.9618\tstep 1  107.81 sec")
        // A diverging run's losses keep the line short.
        let diverged = EpochReport(epoch: 2, trainLoss: 2.298, trainAccuracy: nil, testLoss: 3.8645586e37, testAccuracy: nil,
                                   learningRate: 0.1, elapsedSeconds: 1)
        #expect(diverged.line == "loss: 2.2980 / 3.865e+37\tstep 2  1.00 sec")
    }

    @Test func dataThatDoesNotFitTheModelIsAnError() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        let model = Sequential { Bidirectional(LSTM(units: 4)); Dense(units: 3, activation: .softmax) }
        #expect(throws: ShapeError.self) {
            try model.fit(data.train.prefix(10), optimizer: SGD(), epochs: 1)
        }
    }
}

/// The README's "From Swift" example, on a small slice, so that it keeps compiling and working.
struct ReadmeExampleTests {
    @Test func readmeExampleRunsAsWritten() throws {
        let full = try IDXDirectory(directory: fashionMNIST)
        let data = (train: full.train.prefix(256), test: full.test.prefix(64))
        let model = Sequential {
            Bidirectional(LSTM(units: 16, recurrentActivation: .hardSigmoid))
            Dense(units: 10, activation: .softmax)
        }
        let optimizer = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-6)
        var lines: [String] = []
        let history = try model.fit(data.train, validation: data.test, loss: .categoricalCrossEntropy,
                                    optimizer: optimizer, epochs: 1, batchSize: 128, seed: 0,
                                    onEpoch: { lines.append($0.line) })
        #expect(history.count == 1 && lines.count == 1)
        #expect(model.summary().contains("Total params"))
        let firstFive = try data.test.batch(0..<5).inputs
        let probabilities = model.predict(firstFive)
        #expect(probabilities.shape == [5, 10])
        let path = try ModelFileTests.temporaryFile("model.safetensors")
        try model.save(to: path)
        let again = try Sequential.load(from: path)
        #expect(again.predict(firstFive) == probabilities)
    }
}
