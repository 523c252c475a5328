import Testing
@testable import NeuralNetworks

/// Average pooling over channels-last images: PyTorch parity (valid; Keras' `same`, padding left
/// out of the count) and gradients.
struct AveragePooling2DTests {
    struct Pooling: Decodable {
        let pool_size, strides: [Int]
        let padding: String
        let input, output, upstream, input_gradient: FixtureTensor
    }
    struct Fixture: Decodable { let averages: [Pooling] }

    @Test(arguments: 0..<2)
    func matchesPyTorch(index: Int) throws {
        let p = try Fixtures.load("conv.json", as: Fixture.self).averages[index]
        let pool = AveragePooling2D(poolSize: Size2D(p.pool_size[0], p.pool_size[1]), strides: Size2D(p.strides[0], p.strides[1]),
                                    padding: Padding(rawValue: p.padding)!)
        var generator = RandomGenerator(seed: 0)
        try pool.build(inputShape: Array(p.input.shape.dropFirst()), generator: &generator)
        expectClose(pool.forward(p.input.tensor, training: true), p.output.tensor, "output")
        expectClose(pool.backward(p.upstream.tensor), p.input_gradient.tensor, "input gradient")
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 81)
        let pool = AveragePooling2D(poolSize: Size2D(3, 2), strides: Size2D(2, 1), padding: .same)
        try pool.build(inputShape: [5, 4, 2], generator: &generator)
        checkGradients(of: pool, input: randomTensor([2, 5, 4, 2], generator: &generator))
    }
}
