import Testing
@testable import NeuralNetworks

/// Batch normalisation over the last axis: PyTorch's BatchNorm2d in training (output, gradients,
/// running statistics) and evaluation, gradients, and use after a dense layer.
struct BatchNormalizationTests {
    struct Case: Decodable {
        let gamma, beta, moving_mean, moving_variance, input, output, upstream, input_gradient: FixtureTensor
        let gamma_gradient, beta_gradient, moving_mean_after, moving_variance_after: FixtureTensor
        let evaluation_input, evaluation_output: FixtureTensor
    }
    struct Fixture: Decodable { let batch_norm: Case }

    @Test func matchesPyTorchInTrainingAndEvaluation() throws {
        let f = try Fixtures.load("conv.json", as: Fixture.self).batch_norm
        let norm = BatchNormalization(momentum: 0.9, epsilon: 1e-3)  // PyTorch's momentum 0.1
        var generator = RandomGenerator(seed: 0)
        try norm.build(inputShape: [3, 3, 5], generator: &generator)
        norm.gamma.tensor = f.gamma.tensor
        norm.beta.tensor = f.beta.tensor
        norm.movingMean.tensor = f.moving_mean.tensor
        norm.movingVariance.tensor = f.moving_variance.tensor
        expectClose(norm.forward(f.input.tensor, training: true), f.output.tensor, relative: 1e-5, absolute: 1e-5, "output")
        expectClose(norm.backward(f.upstream.tensor), f.input_gradient.tensor, relative: 1e-4, absolute: 1e-5, "input gradient")
        expectClose(norm.gamma.gradientTensor, f.gamma_gradient.tensor, relative: 1e-4, absolute: 1e-5, "gamma gradient")
        expectClose(norm.beta.gradientTensor, f.beta_gradient.tensor, relative: 1e-4, absolute: 1e-5, "beta gradient")
        expectClose(norm.movingMean.tensor, f.moving_mean_after.tensor, "running mean")
        expectClose(norm.movingVariance.tensor, f.moving_variance_after.tensor, "running variance")
        expectClose(norm.forward(f.evaluation_input.tensor, training: false), f.evaluation_output.tensor, relative: 1e-5,
                    absolute: 1e-5, "evaluation output")
    }

    @Test(arguments: [[4, 3], [3, 2, 3]])
    func gradientMatchesFiniteDifferences(shape: [Int]) throws {
        var generator = RandomGenerator(seed: 51)
        let norm = BatchNormalization()
        try norm.build(inputShape: shape, generator: &generator)
        norm.gamma.tensor = randomTensor(norm.gamma.shape, generator: &generator)
        norm.beta.tensor = randomTensor(norm.beta.shape, generator: &generator)
        checkGradients(of: norm, input: randomTensor([3] + shape, generator: &generator), tolerance: 3e-3)
    }

    @Test func afterADenseLayerTheMovingStatisticsAreSavedAndNotTrained() throws {
        let model = try ModelSpec.model("flatten dense(8) batchnorm relu dense(2, softmax)")
        try model.build(inputShape: [2, 2], seed: 1)
        #expect(model.parameterCount - model.trainableParameterCount == 16)
        #expect(model.parameters.map(\.name).contains("batch_normalization.moving_variance"))
    }
}
