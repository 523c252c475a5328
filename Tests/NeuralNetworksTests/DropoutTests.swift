import Foundation
import Testing
@testable import NeuralNetworks

struct DropoutTests {
    @Test func trainingDropsAboutRateAndScalesTheRestInferenceIsIdentity() throws {
        let dropout = Dropout(rate: 0.25)
        let x = Tensor(shape: [100, 100], scalars: [Float](repeating: 2, count: 10_000))
        let y = dropout.forward(x, training: true)
        let dropped = y.scalars.filter { $0 == 0 }.count
        #expect(abs(dropped - 2_500) < 200)
        #expect(y.scalars.allSatisfy { $0 == 0 || $0 == 2 / 0.75 })
        #expect(dropout.forward(x, training: false) == x)
    }

    @Test func gradientFollowsTheSameMask() throws {
        var generator = RandomGenerator(seed: 6)
        let dropout = Dropout(rate: 0.5)
        try dropout.build(inputShape: [8], generator: &generator)
        // Each call draws from a fresh context of the same seed: the same mask every time.
        checkGradients(of: dropout, input: randomTensor([4, 8], generator: &generator))
        let y = dropout.forward(Tensor(shape: [1, 8], scalars: [Float](repeating: 1, count: 8)), training: true)
        #expect(dropout.backward(Tensor(shape: [1, 8], scalars: [Float](repeating: 1, count: 8))) == y)
    }

    @Test func eachLayerHasItsOwnStreamFromTheSeedAndPath() throws {
        func masks(seed: UInt64) throws -> [[Float]] {
            let model = Sequential { Dropout(rate: 0.5); Dropout(rate: 0.5) }
            try model.build(inputShape: [16], seed: seed)
            let ones = Tensor(shape: [1, 16], scalars: [Float](repeating: 1, count: 16))
            let context = ForwardContext(training: true, streams: model.randomStreams)
            return model.layers.map { $0.forward(ones, context: context).scalars }
        }
        let a = try masks(seed: 1), b = try masks(seed: 1), c = try masks(seed: 2)
        #expect(a == b)
        #expect(a[0] != a[1])
        #expect(a != c)
    }

    struct Fixture: Decodable {
        struct Pair: Decodable { let input, output: FixtureTensor }
        let dropout_eval: Pair
    }

    @Test func inferenceMatchesPyTorchEvalMode() throws {
        let f = try Fixtures.load("dense_activations.json", as: Fixture.self).dropout_eval
        #expect(Dropout(rate: 0.5).forward(f.input.tensor, training: false) == f.output.tensor)
    }

    @Test func rateOutsideZeroToOneIsAnError() {
        #expect(throws: ShapeError.self) { try Dropout(configuration: .init(rate: 1)) }
        #expect(throws: ShapeError.self) { try Dropout(configuration: .init(rate: -0.1)) }
    }
}
