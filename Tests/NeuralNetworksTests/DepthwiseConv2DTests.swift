import Testing
@testable import NeuralNetworks

/// Per-channel convolutions: PyTorch's grouped F.conv2d (groups = channels, depth multiplier),
/// gradients on several threads.
struct DepthwiseConv2DTests {
    struct Case: Decodable {
        let depth_multiplier: Int
        let kernel_size, strides: [Int]
        let padding: String
        let input, kernel, bias, output, upstream, input_gradient, kernel_gradient, bias_gradient: FixtureTensor
    }
    struct Fixture: Decodable { let depthwise: [Case] }

    @Test(arguments: 0..<2, [1, 2])
    func matchesPyTorchGroupedConvolution(index: Int, threads: Int) throws {
        let c = try Fixtures.load("conv.json", as: Fixture.self).depthwise[index]
        let layer = DepthwiseConv2D(kernelSize: Size2D(c.kernel_size[0], c.kernel_size[1]),
                                    strides: Size2D(c.strides[0], c.strides[1]), padding: Padding(rawValue: c.padding)!,
                                    depthMultiplier: c.depth_multiplier)
        layer.threads = threads
        var generator = RandomGenerator(seed: 0)
        try layer.build(inputShape: Array(c.input.shape.dropFirst()), generator: &generator)
        layer.kernel.tensor = c.kernel.tensor
        layer.bias!.tensor = c.bias.tensor
        expectClose(layer.forward(c.input.tensor, training: true), c.output.tensor, relative: 1e-5, absolute: 1e-5, "output")
        expectClose(layer.backward(c.upstream.tensor), c.input_gradient.tensor, relative: 1e-4, absolute: 1e-5, "input gradient")
        expectClose(layer.kernel.gradientTensor, c.kernel_gradient.tensor, relative: 1e-4, absolute: 1e-5, "kernel gradient")
        expectClose(layer.bias!.gradientTensor, c.bias_gradient.tensor, relative: 1e-4, absolute: 1e-5, "bias gradient")
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 61)
        let layer = DepthwiseConv2D(kernelSize: Size2D(3, 2), strides: Size2D(2, 1), padding: .same, depthMultiplier: 2,
                                    dilationRate: Size2D(1, 2), activation: .tanh)
        try layer.build(inputShape: [5, 6, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 5, 6, 2], generator: &generator))
    }
}
