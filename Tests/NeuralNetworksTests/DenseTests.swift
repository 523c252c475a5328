import Testing
@testable import NeuralNetworks

struct DenseTests {
    @Test(arguments: Activation.allCases)
    func denseGradientMatchesFiniteDifferences(_ activation: Activation) throws {
        var generator = RandomGenerator(seed: 3)
        let dense = Dense(units: 4, activation: activation, biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.3))
        _ = try dense.build(inputShape: [5], generator: &generator)
        checkGradients(of: dense, input: randomTensor([3, 5], generator: &generator))
    }

    struct Fixture: Decodable {
        let kernel, bias, input, output, upstream: FixtureTensor
        let input_gradient, kernel_gradient, bias_gradient: FixtureTensor
    }

    @Test func denseMatchesPyTorchLinear() throws {
        let f = try Fixtures.load("dense.json", as: Fixture.self)
        let dense = Dense(units: 3)
        var generator = RandomGenerator(seed: 0)
        _ = try dense.build(inputShape: [5], generator: &generator)
        dense.kernel.tensor = f.kernel.tensor
        dense.bias!.tensor = f.bias.tensor
        expectClose(dense.forward(f.input.tensor, training: true), f.output.tensor, "output")
        expectClose(dense.backward(f.upstream.tensor), f.input_gradient.tensor, "input gradient")
        expectClose(dense.kernel.gradientTensor, f.kernel_gradient.tensor, "kernel gradient")
        expectClose(dense.bias!.gradientTensor, f.bias_gradient.tensor, "bias gradient")
    }

    struct ActivationFixture: Decodable { let cases: [String: Fixture] }

    @Test(arguments: Activation.allCases)
    func denseWithEachActivationMatchesPyTorch(_ activation: Activation) throws {
        let f = try #require(try Fixtures.load("dense_activations.json", as: ActivationFixture.self).cases[activation.rawValue])
        let dense = Dense(units: 4, activation: activation)
        var generator = RandomGenerator(seed: 0)
        _ = try dense.build(inputShape: [6], generator: &generator)
        dense.kernel.tensor = f.kernel.tensor
        dense.bias!.tensor = f.bias.tensor
        expectClose(dense.forward(f.input.tensor, training: true), f.output.tensor, relative: 1e-5, absolute: 2e-6, "output")
        expectClose(dense.backward(f.upstream.tensor), f.input_gradient.tensor, relative: 1e-4, absolute: 1e-5, "input gradient")
        expectClose(dense.kernel.gradientTensor, f.kernel_gradient.tensor, relative: 1e-4, absolute: 1e-5, "kernel gradient")
        expectClose(dense.bias!.gradientTensor, f.bias_gradient.tensor, relative: 1e-4, absolute: 1e-5, "bias gradient")
    }

    @Test func denseRejectsAShapeWithoutFeatures() {
        var generator = RandomGenerator(seed: 0)
        #expect(throws: ShapeError.self) { try Dense(units: 2).build(inputShape: [], generator: &generator) }
    }
}
