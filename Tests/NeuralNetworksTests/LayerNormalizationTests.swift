import Foundation
import Testing
@testable import NeuralNetworks

/// `LayerNormalization` against PyTorch's `nn.LayerNorm` (Keras' epsilon), by finite
/// differences, and in a model on padded sequences (each step its own statistics).
struct LayerNormalizationTests {
    struct Fixture: Decodable {
        let gamma, beta, input, output, upstream: FixtureTensor
        let input_gradient, gamma_gradient, beta_gradient: FixtureTensor
    }

    @Test func matchesPyTorchForwardAndBackward() throws {
        let f = try Fixtures.load("layer_norm.json", as: Fixture.self)
        let layer = LayerNormalization()
        var generator = RandomGenerator(seed: 1)
        try layer.build(inputShape: [3, 5], generator: &generator)
        layer.gamma.tensor = f.gamma.tensor
        layer.beta.tensor = f.beta.tensor
        // One row holds values near 1000: its statistics must not lose the variance.
        expectClose(layer.forward(f.input.tensor, training: true), f.output.tensor, "output")
        expectClose(layer.backward(f.upstream.tensor), f.input_gradient.tensor, relative: 1e-4, absolute: 1e-4, "input gradient")
        expectClose(layer.gamma.gradientTensor, f.gamma_gradient.tensor, "gamma gradient")
        expectClose(layer.beta.gradientTensor, f.beta_gradient.tensor, "beta gradient")
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let layer = LayerNormalization(epsilon: 1e-2)
        var generator = RandomGenerator(seed: 3)
        try layer.build(inputShape: [2, 4], generator: &generator)
        layer.gamma.tensor = randomTensor([4], generator: &generator)
        layer.beta.tensor = randomTensor([4], generator: &generator)
        checkGradients(of: layer, input: randomTensor([3, 2, 4], generator: &generator))
    }

    /// Each step is normalised alone, so it may take padded sequences before a recurrent layer;
    /// the model saves, loads and exports to PyTorch's `nn.LayerNorm`.
    @Test func aModelNormalisesEachStepAndSavesIt() throws {
        let data = try SequenceLengthsTests.dataset(padding: 1e3)
        let model = try ModelSpec.model("dense(4) layernorm gru(4) dense(2, softmax)")
        let reports = try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 32, seed: 2)
        #expect(reports.count == 1 && reports[0].trainLoss.isFinite)
        let path = try ModelFileTests.temporaryFile("layernorm.safetensors")
        try model.save(to: path)
        let x = try data.inputs.tensor([0, 1])
        #expect(try Sequential.load(from: path).predict(x) == model.predict(x))
        let exported = try PyTorchModule.sequential(model.layers)
        #expect(exported.code.contains("nn.LayerNorm(4, eps=0.001)") && exported.tensors.contains { $0.name == "1.weight" })
    }
}
