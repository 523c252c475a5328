import Foundation
import Testing
@testable import NeuralNetworks

struct SimpleRNNTests {
    /// h_t = tanh(x_t·W + h_{t−1}·U + b), written out for one sample.
    @Test func forwardIsTheRecurrenceWrittenOut() throws {
        var generator = RandomGenerator(seed: 3)
        let layer = SimpleRNN(units: 2, returnSequences: true)
        try layer.build(inputShape: [3, 2], generator: &generator)
        let x = randomTensor([1, 3, 2], generator: &generator)
        let w = layer.kernel.tensor.scalars, u = layer.recurrentKernel.tensor.scalars
        layer.bias.tensor = Tensor(shape: [2], scalars: [0.1, -0.2])
        var h: [Float] = [0, 0], expected: [Float] = []
        for t in 0..<3 {
            h = (0..<2).map { j in
                tanh(x.scalars[2 * t] * w[j] + x.scalars[2 * t + 1] * w[2 + j] + h[0] * u[j] + h[1] * u[2 + j] + [0.1, -0.2][j])
            }
            expected += h
        }
        expectClose(layer.forward(x, training: false), Tensor(shape: [1, 3, 2], scalars: expected), "sequence")
    }

    @Test(arguments: [(Activation.tanh, false, false), (.relu, true, false), (.tanh, true, true), (.relu, false, true)])
    func gradientMatchesFiniteDifferences(activation: Activation, returnSequences: Bool, goBackwards: Bool) throws {
        var generator = RandomGenerator(seed: 11)
        let layer = SimpleRNN(units: 3, activation: activation, returnSequences: returnSequences, goBackwards: goBackwards)
        try layer.build(inputShape: [4, 2], generator: &generator)
        layer.bias.tensor = randomTensor([3], scale: 0.3, generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 4, 2], generator: &generator))
    }

    @Test func goingBackwardsReadsTheReversedSequence() throws {
        try expectGoingBackwardsReadsTheReversedSequence(SimpleRNN(units: 3))
    }

    @Test func bidirectionalTrainsSavesAndLoadsFromASpec() throws {
        #expect(try ModelSpec.layers("rnn(4, relu)", classes: 3) == ModelSpec.layers("simple_rnn(4, relu)", classes: 3))
        let named = Sequential { SimpleRNN(units: 2); SimpleRNN(units: 2); GaussianNoise(stddev: 0); LSTM(units: 2) }
        #expect(named.layers.map(\.name) == ["simple_rnn", "simple_rnn_1", "gaussian_noise", "lstm"])
        let model = try ModelSpec.model("birnn(8) dense(classes, softmax)", classes: 3)
        try model.build(inputShape: [5, 4], seed: 2)
        var generator = RandomGenerator(seed: 9)
        let x = randomTensor([6, 5, 4], generator: &generator)
        let before = try model.trainStep(x, labels: [0, 1, 2, 0, 1, 2], loss: .categoricalCrossEntropy,
                                         optimizer: SGD(learningRate: 0.5)).loss
        for _ in 0..<20 {
            try model.trainStep(x, labels: [0, 1, 2, 0, 1, 2], loss: .categoricalCrossEntropy, optimizer: SGD(learningRate: 0.5))
        }
        let after = try model.trainStep(x, labels: [0, 1, 2, 0, 1, 2], loss: .categoricalCrossEntropy,
                                        optimizer: SGD(learningRate: 0.5)).loss
        #expect(after < before / 2, "loss \(before) → \(after)")
        let path = try ModelFileTests.temporaryFile("rnn.safetensors")
        try model.save(to: path)
        #expect(try Sequential.load(from: path).predict(x) == model.predict(x))
    }
}
