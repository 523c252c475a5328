import Testing
@testable import NeuralNetworks

struct FlattenTests {
    @Test func flattenKeepsValuesInOrderAndRestoresTheGradientShape() throws {
        let flatten = Flatten()
        var context = BuildContext(generator: RandomGenerator(seed: 0))
        #expect(try flatten.build(inputShape: [2, 3], context: &context) == [6])
        let x = Tensor(shape: [2, 2, 3], scalars: (0..<12).map(Float.init))
        let y = flatten.forward(x, training: true)
        #expect(y.shape == [2, 6] && y.scalars == x.scalars)
        #expect(flatten.backward(y).shape == [2, 2, 3])
    }

    @Test func flattenGradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 4)
        let flatten = Flatten()
        try flatten.build(inputShape: [3, 2], generator: &generator)
        checkGradients(of: flatten, input: randomTensor([2, 3, 2], generator: &generator))
    }

}
