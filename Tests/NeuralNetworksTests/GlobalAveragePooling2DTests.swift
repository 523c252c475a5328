import Testing
@testable import NeuralNetworks

/// Each channel's mean over the image.
struct GlobalAveragePooling2DTests {
    @Test func averagesEachChannelOverTheImage() throws {
        var generator = RandomGenerator(seed: 91)
        let pool = GlobalAveragePooling2D()
        #expect(try pool.build(inputShape: [2, 3, 2], generator: &generator) == [2])
        let x = Tensor(shape: [1, 2, 3, 2], scalars: [1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60])
        #expect(pool.forward(x, training: false).scalars == [3.5, 35])
        checkGradients(of: pool, input: randomTensor([2, 2, 3, 2], generator: &generator))
        #expect(throws: ShapeError.self) { try GlobalAveragePooling2D().build(inputShape: [4, 4], generator: &generator) }
    }
}
