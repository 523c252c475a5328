import Foundation
import Testing
@testable import NeuralNetworks

/// Channels-last 2-D convolutions: PyTorch parity (stride, `same` padding, dilation), gradients,
/// shapes, and the geometry's errors.
struct Conv2DTests {
    struct Convolution: Decodable {
        let filters: Int
        let kernel_size, strides, dilation_rate: [Int]
        let padding: String
        let input, kernel, bias, output, upstream, input_gradient, kernel_gradient, bias_gradient: FixtureTensor
    }
    struct Fixture: Decodable { let convolutions: [Convolution] }

    static func layer(_ c: Convolution) -> Conv2D {
        Conv2D(filters: c.filters, kernelSize: Size2D(c.kernel_size[0], c.kernel_size[1]),
               strides: Size2D(c.strides[0], c.strides[1]), padding: Padding(rawValue: c.padding)!,
               dilationRate: Size2D(c.dilation_rate[0], c.dilation_rate[1]))
    }

    @Test(arguments: 0..<3, CPUBackend.paths)
    func matchesPyTorch(index: Int, kernel: String) throws {
        let c = try Fixtures.load("conv.json", as: Fixture.self).convolutions[index]
        let conv = Self.layer(c)
        conv.threads = 2
        var generator = RandomGenerator(seed: 0)
        try conv.build(inputShape: Array(c.input.shape.dropFirst()), generator: &generator)
        conv.kernel.tensor = c.kernel.tensor
        conv.bias!.tensor = c.bias.tensor
        let context = ForwardContext(training: true, backend: CPUBackend.path(kernel))
        expectClose(conv.forward(c.input.tensor, context: context), c.output.tensor, relative: 1e-5, absolute: 1e-5, "output")
        expectClose(conv.backward(c.upstream.tensor), c.input_gradient.tensor, relative: 1e-4, absolute: 1e-5, "input gradient")
        expectClose(conv.kernel.gradientTensor, c.kernel_gradient.tensor, relative: 1e-4, absolute: 1e-5, "kernel gradient")
        expectClose(conv.bias!.gradientTensor, c.bias_gradient.tensor, relative: 1e-4, absolute: 1e-5, "bias gradient")
    }

    @Test(arguments: [(Padding.valid, 1, 1), (.same, 2, 1), (.same, 1, 2)])
    func gradientMatchesFiniteDifferences(padding: Padding, stride: Int, dilation: Int) throws {
        var generator = RandomGenerator(seed: 31)
        let conv = Conv2D(filters: 3, kernelSize: Size2D(3, 2), strides: Size2D(stride), padding: padding,
                          dilationRate: Size2D(dilation), activation: .tanh)
        try conv.build(inputShape: [5, 6, 2], generator: &generator)
        checkGradients(of: conv, input: randomTensor([2, 5, 6, 2], generator: &generator))
    }

    @Test func greyImagesWithoutAChannelAxisAreOneChannel() throws {
        var generator = RandomGenerator(seed: 32)
        let grey = Conv2D(filters: 2, kernelSize: Size2D(3)), channel = Conv2D(filters: 2, kernelSize: Size2D(3))
        #expect(try grey.build(inputShape: [28, 28], generator: &generator) == [26, 26, 2])
        try channel.build(inputShape: [28, 28, 1], generator: &generator)
        channel.kernel.tensor = grey.kernel.tensor
        let x = randomTensor([2, 28, 28], generator: &generator)
        #expect(grey.forward(x, training: false).scalars
                == channel.forward(Tensor(shape: [2, 28, 28, 1], scalars: x.scalars), training: false).scalars)
    }

    @Test func outputShapesFollowKerasRules() throws {
        var generator = RandomGenerator(seed: 33)
        func shape(_ padding: Padding, stride: Int, dilation: Int = 1) throws -> [Int] {
            try Conv2D(filters: 4, kernelSize: Size2D(5), strides: Size2D(stride), padding: padding,
                       dilationRate: Size2D(dilation)).build(inputShape: [28, 28, 3], generator: &generator)
        }
        #expect(try shape(.valid, stride: 1) == [24, 24, 4])
        #expect(try shape(.valid, stride: 2) == [12, 12, 4])
        #expect(try shape(.same, stride: 2) == [14, 14, 4])
        #expect(try shape(.same, stride: 3) == [10, 10, 4])
        #expect(try shape(.valid, stride: 1, dilation: 2) == [20, 20, 4])
    }

    @Test func windowsThatDoNotFitAreErrorsNamingTheLayer() throws {
        var generator = RandomGenerator(seed: 34)
        #expect(throws: ShapeError.self) { try Conv2D(filters: 2, kernelSize: Size2D(5)).build(inputShape: [4, 4, 1], generator: &generator) }
        #expect(throws: ShapeError.self) { try Conv2D(filters: 2, kernelSize: Size2D(2)).build(inputShape: [4], generator: &generator) }
        #expect(throws: ShapeError.self) {
            try JSONDecoder().decode(LayerDescription.self, from: Data(#"{"type": "Conv2D", "filters": 0, "kernel_size": 3}"#.utf8))
                .makeLayer()
        }
    }

    @Test func modelSpecsWriteSizesAndStridesShort() throws {
        let layers = try ModelSpec.layers("conv(24, 5x5, stride 2, relu) maxpool(2x2) conv(8, [3, 1], padding=same, dilation=2)")
        let first = try #require(try layers[0].makeLayer() as? Conv2D), last = try #require(try layers[2].makeLayer() as? Conv2D)
        #expect(first.filters == 24 && first.kernelSize == Size2D(5) && first.strides == Size2D(2) && first.activation == .relu)
        #expect(last.kernelSize == Size2D(3, 1) && last.padding == .same && last.dilationRate == Size2D(2))
        #expect(try layers[1].makeLayer() is MaxPooling2D)
    }
}
