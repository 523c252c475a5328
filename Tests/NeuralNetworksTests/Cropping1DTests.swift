import Foundation
import Testing
@testable import NeuralNetworks

/// Steps cut from sequences: values, gradients, errors. (PyTorch parity: `torch_sequential/sequences1d`.)
struct Cropping1DTests {
    @Test func stepsAreCutAndTheGradientHasZerosThere() throws {
        var generator = RandomGenerator(seed: 93)
        let layer = Cropping1D(cropping: SequenceMargins(start: 1, end: 2))
        #expect(try layer.build(inputShape: [5, 1], generator: &generator) == [2, 1])
        #expect(layer.forward(Tensor(shape: [1, 5, 1], scalars: [1, 2, 3, 4, 5]), training: true).scalars == [2, 3])
        #expect(layer.backward(Tensor(shape: [1, 2, 1], scalars: [7, 8])).scalars == [0, 7, 8, 0, 0])
        let wider = Cropping1D(cropping: SequenceMargins(start: 1, end: 2))
        try wider.build(inputShape: [5, 2], generator: &generator)
        checkGradients(of: wider, input: randomTensor([2, 5, 2], generator: &generator))
        #expect(throws: ShapeError.self) { try Cropping1D(cropping: SequenceMargins(3)).build(inputShape: [6, 2], generator: &generator) }
        #expect(try ModelSpec.layers("crop1d([1, 0])")[0].type == Cropping1D.typeName)
    }
}
