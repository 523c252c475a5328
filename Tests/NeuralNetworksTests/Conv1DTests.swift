import Testing
@testable import NeuralNetworks

/// 1-D convolutions over sequences: a Conv2D over one-row images, written out, and gradients.
struct Conv1DTests {
    @Test func convolvesEachWindowOfSteps() throws {
        var generator = RandomGenerator(seed: 101)
        let conv = Conv1D(filters: 2, kernelSize: 3, strides: 2, padding: .same)
        #expect(try conv.build(inputShape: [7, 2], generator: &generator) == [4, 2])
        let x = randomTensor([1, 7, 2], generator: &generator)
        let y = conv.forward(x, training: false)
        // Step 0 of the output: taps at steps −1 (padding), 0 and 1 (same padding puts one step before).
        for f in 0..<2 {
            var expected = conv.bias!.tensor.scalars[f]
            for (tap, step) in [(1, 0), (2, 1)] {
                for c in 0..<2 { expected += x.scalars[step * 2 + c] * conv.kernel.tensor.scalars[(tap * 2 + c) * 2 + f] }
            }
            #expect(abs(y.scalars[f] - expected) < 1e-5)
        }
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 102)
        let conv = Conv1D(filters: 3, kernelSize: 2, dilationRate: 2, activation: .tanh)
        try conv.build(inputShape: [6, 2], generator: &generator)
        checkGradients(of: conv, input: randomTensor([2, 6, 2], generator: &generator))
    }

    @Test func aModelSpecStacksItBeforeARecurrentLayer() throws {
        let model = try ModelSpec.model("conv1d(8, 3, relu, padding=same) gru(4) dense(2, softmax)")
        try model.build(inputShape: [28, 28], seed: 1)
        #expect(model.layers[0] is Conv1D && model.outputShape == [2])
    }
}
