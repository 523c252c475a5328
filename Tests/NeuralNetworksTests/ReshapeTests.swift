import Testing
@testable import NeuralNetworks

struct ReshapeTests {
    @Test func minusOneIsInferredFromTheOtherDimensions() throws {
        var context = BuildContext(generator: RandomGenerator(seed: 0))
        #expect(try Reshape([28, -1]).build(inputShape: [784], context: &context) == [28, 28])
        #expect(try Reshape([4, 7]).build(inputShape: [2, 14], context: &context) == [4, 7])
    }

    @Test func shapesThatDoNotFitAreAnError() {
        var context = BuildContext(generator: RandomGenerator(seed: 0))
        #expect(throws: ShapeError.self) { try Reshape([5, -1]).build(inputShape: [784], context: &context) }
        #expect(throws: ShapeError.self) { try Reshape([3, 3]).build(inputShape: [10], context: &context) }
        #expect(throws: ShapeError.self) { try Reshape(configuration: .init(targetShape: [-1, -1])) }
    }

    @Test func reshapeGradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 5)
        let reshape = Reshape([2, -1])
        try reshape.build(inputShape: [6], generator: &generator)
        checkGradients(of: reshape, input: randomTensor([3, 6], generator: &generator))
        #expect(reshape.forward(Tensor(zeros: [3, 6]), training: false).shape == [3, 2, 3])
    }
}
