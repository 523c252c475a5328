import Foundation
import Testing
@testable import NeuralNetworks

/// Zeros around images: values, gradients, the margins' forms, errors. (PyTorch parity:
/// `torch_sequential/margins`.)
struct ZeroPadding2DTests {
    @Test func zerosGoAroundAndTheGradientIsTheMiddle() throws {
        var generator = RandomGenerator(seed: 71)
        let layer = ZeroPadding2D(padding: ImageMargins(top: 1, bottom: 0, left: 0, right: 2))
        #expect(try layer.build(inputShape: [2, 2], generator: &generator) == [3, 4, 1])
        let y = layer.forward(Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4]), training: true)
        #expect(y.scalars == [0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0])
        #expect(layer.backward(Tensor(shape: [1, 3, 4, 1], scalars: (0..<12).map(Float.init))).scalars == [4, 5, 8, 9])
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 72)
        let layer = ZeroPadding2D(padding: ImageMargins(top: 2, bottom: 1, left: 1, right: 3))
        try layer.build(inputShape: [3, 2, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 3, 2, 2], generator: &generator))
    }

    /// One number, [height, width], or [[top, bottom], [left, right]], as Keras writes them.
    @Test func marginsTakeKerasForms() throws {
        let layers = try ModelSpec.layers("zeropad(2) zeropadding2d([1, 3]) zeropad([[1, 2], [3, 4]]) zeropad(1x2)")
        let margins = try layers.map { try #require(try $0.makeLayer() as? ZeroPadding2D).padding }
        #expect(margins == [ImageMargins(2), ImageMargins(height: 1, width: 3), ImageMargins(top: 1, bottom: 2, left: 3, right: 4),
                            ImageMargins(height: 1, width: 2)])
        for bad in [#""padding": -1"#, #""padding": [1, 2, 3]"#, #""padding": [[1], [2, 3]]"#, #""padding": 2000000"#] {
            #expect(throws: (any Error).self) {
                try JSONDecoder().decode(LayerDescription.self, from: Data(#"{"type": "ZeroPadding2D", \#(bad)}"#.utf8)).makeLayer()
            }
        }
        var generator = RandomGenerator(seed: 73)
        #expect(throws: ShapeError.self) { try ZeroPadding2D().build(inputShape: [5], generator: &generator) }
    }
}
