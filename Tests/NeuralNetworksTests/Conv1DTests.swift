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

    /// Causal padding: output step t sees input steps up to t only, so changing a step changes
    /// no earlier output; the length stays (÷ strides).
    @Test func causalPaddingLetsNoStepSeeLaterOnes() throws {
        var generator = RandomGenerator(seed: 103)
        let conv = Conv1D(filters: 2, kernelSize: 3, padding: .causal, dilationRate: 2)
        #expect(try conv.build(inputShape: [9, 2], generator: &generator) == [9, 2])
        var x = randomTensor([1, 9, 2], generator: &generator)
        let before = conv.forward(x, training: false)
        x.scalars[5 * 2] += 1
        let after = conv.forward(x, training: false)
        #expect(Array(before.scalars[..<(5 * 2)]) == Array(after.scalars[..<(5 * 2)]))
        #expect(before.scalars[5 * 2] != after.scalars[5 * 2])
        // The first output sees step 0 alone (the other taps fall on the padding).
        for f in 0..<2 {
            var expected = conv.bias!.tensor.scalars[f]
            for c in 0..<2 { expected += x.scalars[c] * conv.kernel.tensor.scalars[(2 * 2 + c) * 2 + f] }
            #expect(abs(before.scalars[f] - expected) < 1e-5)
        }
        let strided = Conv1D(filters: 1, kernelSize: 2, strides: 2, padding: .causal)
        #expect(try strided.build(inputShape: [9, 2], generator: &generator) == [5, 1])
        checkGradients(of: conv, input: randomTensor([2, 9, 2], generator: &generator))
    }

    @Test func causalPaddingIsRefusedForImages() {
        var generator = RandomGenerator(seed: 104)
        #expect(throws: ShapeError.self) {
            try Conv2D(filters: 2, kernelSize: Size2D(3), padding: .causal).build(inputShape: [5, 5, 1], generator: &generator)
        }
    }

    @Test func aModelSpecStacksItBeforeARecurrentLayer() throws {
        let model = try ModelSpec.model("conv1d(8, 3, relu, padding=same) gru(4) dense(2, softmax)")
        try model.build(inputShape: [28, 28], seed: 1)
        #expect(model.layers[0] is Conv1D && model.outputShape == [2])
    }
}
