import Foundation
import Testing
@testable import NeuralNetworks

/// Each step repeated: values, gradients, errors. (PyTorch parity: `torch_sequential/sequences1d`.)
struct UpSampling1DTests {
    @Test func stepsAreRepeatedAndTheirGradientsSummed() throws {
        var generator = RandomGenerator(seed: 91)
        let layer = UpSampling1D(size: 3)
        #expect(try layer.build(inputShape: [2, 2], generator: &generator) == [6, 2])
        #expect(layer.forward(Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4]), training: true).scalars
                == [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4])
        #expect(layer.backward(Tensor(shape: [1, 6, 2], scalars: (0..<12).map(Float.init))).scalars == [6, 9, 24, 27])
        checkGradients(of: layer, input: randomTensor([2, 2, 2], generator: &generator))
        #expect(throws: ShapeError.self) { try UpSampling1D().build(inputShape: [4, 4, 1], generator: &generator) }
        #expect(throws: ShapeError.self) {
            try JSONDecoder().decode(LayerDescription.self, from: Data(#"{"type": "UpSampling1D", "size": 0}"#.utf8)).makeLayer()
        }
    }
}
