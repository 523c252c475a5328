import Foundation
import Testing
@testable import NeuralNetworks

/// Zero steps around sequences: values, gradients, margins. (PyTorch parity: `torch_sequential/sequences1d`.)
struct ZeroPadding1DTests {
    @Test func zeroStepsGoAroundAndTheGradientIsTheMiddle() throws {
        var generator = RandomGenerator(seed: 92)
        let layer = ZeroPadding1D(padding: SequenceMargins(start: 1, end: 2))
        #expect(try layer.build(inputShape: [2, 1], generator: &generator) == [5, 1])
        #expect(layer.forward(Tensor(shape: [1, 2, 1], scalars: [7, 8]), training: true).scalars == [0, 7, 8, 0, 0])
        #expect(layer.backward(Tensor(shape: [1, 5, 1], scalars: [1, 2, 3, 4, 5])).scalars == [2, 3])
        let wider = ZeroPadding1D(padding: SequenceMargins(start: 1, end: 2))
        try wider.build(inputShape: [2, 3], generator: &generator)
        checkGradients(of: wider, input: randomTensor([2, 2, 3], generator: &generator))
        let spec = try ModelSpec.layers("zeropad1d(2) zeropadding1d([0, 3])").map { try #require(try $0.makeLayer() as? ZeroPadding1D).padding }
        #expect(spec == [SequenceMargins(2), SequenceMargins(start: 0, end: 3)])
    }
}
