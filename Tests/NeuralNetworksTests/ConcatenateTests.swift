import Foundation
import Testing
@testable import NeuralNetworks

struct ConcatenateTests {
    /// A small model wired as a graph: a residual block, then two parallel branches joined.
    static func graphModel() -> Sequential {
        Sequential {
            Dense(units: 6, activation: .tanh)
            Residual { Dense(units: 6, activation: .relu); Dropout(rate: 0.2); Dense(units: 6) }
            Concatenate {
                Dense(units: 3, activation: .sigmoid)
                Chain { Dense(units: 4, activation: .elu); Dense(units: 2) }
            }
            Dense(units: 3, activation: .softmax)
        }
    }

    @Test func branchesAreJoinedAlongTheLastAxis() throws {
        var generator = RandomGenerator(seed: 2)
        let join = Concatenate { Dense(units: 2); Dense(units: 3) }
        #expect(try join.build(inputShape: [4], generator: &generator) == [5])
        let y = join.forward(randomTensor([7, 4], generator: &generator), training: false)
        #expect(y.shape == [7, 5])
    }

    @Test func graphOfResidualAndConcatenateMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 17)
        let chain = Chain(Self.graphModel().layers.dropLast())
        chain.needsInputGradient = true  // a model's first layer skips it
        try chain.build(inputShape: [5], generator: &generator)
        // Dropout's mask is the same at every call: each draws from a fresh context of one seed.
        checkGradients(of: chain, input: randomTensor([3, 5], generator: &generator))
    }

    @Test func graphModelSavesLoadsAndTrainsWithPathsFromTheWalk() throws {
        let model = Self.graphModel()
        try model.build(inputShape: [5], seed: 4)
        #expect(model.parameters.map(\.name).contains("residual.body.dense_1.kernel"))
        #expect(model.parameters.map(\.name).contains("concatenate.chain.dense_1.bias"))
        let path = try ModelFileTests.temporaryFile("graph.safetensors")
        try model.save(to: path)
        let loaded = try Sequential.load(from: path)
        var generator = RandomGenerator(seed: 1)
        let x = randomTensor([4, 5], generator: &generator)
        #expect(loaded.predict(x) == model.predict(x))
        #expect(loaded.summary() == model.summary())
        #expect(model.randomStreams.states.keys.contains("residual.body.dropout"))
        // One training step through the whole graph changes every trainable value's gradient.
        try model.trainStep(x, labels: [0, 1, 2, 1], loss: .categoricalCrossEntropy, optimizer: SGD(learningRate: 0.1))
        #expect(model.trainableParameters.allSatisfy { p in p.gradientTensor.scalars.contains { $0 != 0 } })
    }

    @Test func specWritesGraphsToo() throws {
        let model = try ModelSpec.model("dense(4) residual([dense(4, relu), dense(4)]) concatenate([dense(2), chain([dense(3), activation(tanh)])])")
        try model.build(inputShape: [3], seed: 0)
        #expect(model.outputShape == [5])
    }
}
