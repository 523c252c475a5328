import Testing
@testable import NeuralNetworks

/// A depthwise then a pointwise convolution: the two layers chained, with fewer weights.
struct SeparableConv2DTests {
    @Test func isADepthwiseConvolutionThenAPointwiseOne() throws {
        var generator = RandomGenerator(seed: 71)
        let separable = SeparableConv2D(filters: 4, kernelSize: Size2D(3), padding: .same, depthMultiplier: 2, activation: .relu)
        #expect(try separable.build(inputShape: [6, 6, 3], generator: &generator) == [6, 6, 4])
        #expect(separable.parameterCount == 3 * 3 * 3 * 2 + 6 * 4 + 4)
        #expect(separable.namedParameters.map(\.path) == ["depthwise.depthwise_kernel", "pointwise.kernel", "pointwise.bias"])
        let x = randomTensor([2, 6, 6, 3], generator: &generator)
        let chained = separable.pointwise.forward(separable.depthwise.forward(x, training: false), training: false)
        #expect(separable.forward(x, training: false) == chained)
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 72)
        let separable = SeparableConv2D(filters: 3, kernelSize: Size2D(2), strides: Size2D(2), activation: .tanh)
        try separable.build(inputShape: [5, 4, 2], generator: &generator)
        checkGradients(of: separable, input: randomTensor([2, 5, 4, 2], generator: &generator))
    }
}
