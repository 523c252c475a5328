import Foundation
import Testing
@testable import NeuralNetworks

struct ResidualTests {
    @Test func identitySkipAddsTheInput() throws {
        let block = Residual { Dense(units: 3, activation: .relu, kernelInitializer: .zeros, biasInitializer: .constant(1)) }
        try block.build(inputShape: [3], generator: &Self.generator)
        let x = Tensor(shape: [1, 3], scalars: [1, 2, 3])
        #expect(block.forward(x, training: false).scalars == [2, 3, 4])
    }

    @Test func residualGradientMatchesFiniteDifferencesWithAndWithoutProjection() throws {
        var generator = RandomGenerator(seed: 13)
        let identity = Residual { Dense(units: 4, activation: .tanh); Dense(units: 4) }
        try identity.build(inputShape: [4], generator: &generator)
        checkGradients(of: identity, input: randomTensor([3, 4], generator: &generator))
        let projected = Residual(projection: Dense(units: 2)) { Dense(units: 2, activation: .sigmoid) }
        try projected.build(inputShape: [5], generator: &generator)
        checkGradients(of: projected, input: randomTensor([3, 5], generator: &generator))
    }

    @Test func widthChangeWithoutProjectionIsAShapeError() {
        var generator = RandomGenerator(seed: 0)
        #expect(throws: ShapeError.self) { try Residual { Dense(units: 7) }.build(inputShape: [4], generator: &generator) }
    }

    nonisolated(unsafe) static var generator = RandomGenerator(seed: 0)
}
