import Foundation
import Testing
@testable import NeuralNetworks

/// The maximum of each channel over the image: values, its gradient to the first largest value,
/// one-channel images, and errors. (PyTorch parity: `torch_sequential/global_max_pooling`.)
struct GlobalMaxPooling2DTests {
    @Test func eachChannelsLargestValueAndItsGradient() throws {
        var generator = RandomGenerator(seed: 61)
        let layer = GlobalMaxPooling2D()
        #expect(try layer.build(inputShape: [2, 2, 2], generator: &generator) == [2])
        // Channel 0: 1, 5, 3, 5 (the first 5 wins); channel 1: −4, −2, −7, −3.
        let x = Tensor(shape: [1, 2, 2, 2], scalars: [1, -4, 5, -2, 3, -7, 5, -3])
        #expect(layer.forward(x, training: true).scalars == [5, -2])
        #expect(layer.backward(Tensor(shape: [1, 2], scalars: [10, 20])).scalars == [0, 0, 10, 20, 0, 0, 0, 0])
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 62)
        let layer = GlobalMaxPooling2D()
        try layer.build(inputShape: [3, 4, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 3, 4, 2], generator: &generator))
    }

    @Test func greyImagesAreOneChannelAndOtherShapesAreErrors() throws {
        var generator = RandomGenerator(seed: 63)
        let layer = GlobalMaxPooling2D()
        #expect(try layer.build(inputShape: [28, 28], generator: &generator) == [1])
        #expect(layer.forward(Tensor(shape: [1, 28, 28], scalars: (0..<784).map(Float.init)), training: false).scalars == [783])
        #expect(throws: ShapeError.self) { try GlobalMaxPooling2D().build(inputShape: [5], generator: &generator) }
        #expect(try ModelSpec.layers("conv(4, 3x3) gmp dense(2)")[1].type == GlobalMaxPooling2D.typeName)
    }
}
