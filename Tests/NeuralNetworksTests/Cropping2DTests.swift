import Foundation
import Testing
@testable import NeuralNetworks

/// Rows and columns cut from images: values, gradients, errors, and a U-Net's skip connection
/// brought to size. (PyTorch parity: `torch_sequential/margins`.)
struct Cropping2DTests {
    @Test func edgesAreCutAndTheGradientHasZerosThere() throws {
        var generator = RandomGenerator(seed: 81)
        let layer = Cropping2D(cropping: ImageMargins(top: 1, bottom: 0, left: 0, right: 2))
        #expect(try layer.build(inputShape: [3, 4], generator: &generator) == [2, 2, 1])
        let y = layer.forward(Tensor(shape: [1, 3, 4], scalars: (0..<12).map(Float.init)), training: true)
        #expect(y.scalars == [4, 5, 8, 9])
        #expect(layer.backward(Tensor(shape: [1, 2, 2, 1], scalars: [1, 2, 3, 4])).scalars == [0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0])
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 82)
        let layer = Cropping2D(cropping: ImageMargins(top: 1, bottom: 2, left: 0, right: 1))
        try layer.build(inputShape: [5, 3, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 5, 3, 2], generator: &generator))
    }

    @Test func croppingEverythingIsAnErrorNamingTheSizes() throws {
        var generator = RandomGenerator(seed: 83)
        #expect(throws: ShapeError("cropping2d: cropping [[2, 2], [0, 0]] leaves nothing of 4×5 images")) {
            try Cropping2D(cropping: ImageMargins(height: 2, width: 0)).build(inputShape: [4, 5, 1], generator: &generator)
        }
        #expect(try ModelSpec.layers("crop([[1, 0], [2, 2]])")[0].type == Cropping2D.typeName)
    }

    /// A small U-Net step: the maps go down (a strided convolution) and back up (a transposed
    /// one, one row and column larger), are cropped to the input's size and joined with it.
    @Test func aUNetSkipConnectionJoinsMapsOfOneSize() throws {
        let model = try ModelSpec.model("""
            conv(4, 3x3, padding=same, relu) concatenate([chain([conv(8, 3x3, stride 2, padding=same, relu), \
            deconv(4, 3x3, stride 2), crop([[0, 1], [0, 1]])]), activation(linear)]) conv(1, 1x1)
            """)
        // 10 → 5 (same, strides 2) → 11 (valid, strides 2) → 10 after the crop, beside the 10 × 10 input.
        try model.build(inputShape: [10, 10, 1], seed: 3)
        #expect(model.outputShape == [10, 10, 1])
        var generator = RandomGenerator(seed: 84)
        let y = model.forward(randomTensor([2, 10, 10, 1], generator: &generator), training: false)
        #expect(y.shape == [2, 10, 10, 1] && y.scalars.allSatisfy(\.isFinite))
    }
}
