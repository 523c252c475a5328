import Testing
@testable import NeuralNetworks

/// Max pooling over channels-last images: PyTorch parity (valid, Keras' `same`, unequal sizes),
/// gradients, shapes.
struct MaxPooling2DTests {
    struct Pooling: Decodable {
        let pool_size, strides: [Int]
        let padding: String
        let input, output, upstream, input_gradient: FixtureTensor
    }
    struct Fixture: Decodable { let poolings: [Pooling] }

    @Test(arguments: 0..<3)
    func matchesPyTorch(index: Int) throws {
        let p = try Fixtures.load("conv.json", as: Fixture.self).poolings[index]
        let pool = MaxPooling2D(poolSize: Size2D(p.pool_size[0], p.pool_size[1]), strides: Size2D(p.strides[0], p.strides[1]),
                                padding: Padding(rawValue: p.padding)!)
        var generator = RandomGenerator(seed: 0)
        try pool.build(inputShape: Array(p.input.shape.dropFirst()), generator: &generator)
        expectClose(pool.forward(p.input.tensor, training: true), p.output.tensor, "output")
        expectClose(pool.backward(p.upstream.tensor), p.input_gradient.tensor, "input gradient")
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 41)
        let pool = MaxPooling2D(poolSize: Size2D(2, 3), strides: Size2D(1, 2), padding: .same)
        try pool.build(inputShape: [5, 6, 2], generator: &generator)
        checkGradients(of: pool, input: randomTensor([2, 5, 6, 2], generator: &generator))
    }

    @Test func stridesDefaultToThePoolSizeAndGreyImagesStayGrey() throws {
        var generator = RandomGenerator(seed: 42)
        #expect(try MaxPooling2D().build(inputShape: [24, 24, 8], generator: &generator) == [12, 12, 8])
        #expect(try MaxPooling2D(poolSize: Size2D(3)).build(inputShape: [28, 28], generator: &generator) == [9, 9])
        #expect(try MaxPooling2D(poolSize: Size2D(3), padding: .same).build(inputShape: [28, 28], generator: &generator) == [10, 10])
    }
}
