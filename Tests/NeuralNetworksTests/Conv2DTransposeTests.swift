import Foundation
import Testing
@testable import NeuralNetworks

/// Transposed 2-D convolutions: PyTorch parity (Keras' sizes and placement, strides, `same`,
/// dilation, output_padding), gradients, the identity with a convolution's input gradient, sizes
/// and errors, and an autoencoder that learns.
struct Conv2DTransposeTests {
    struct Case: Decodable {
        let filters: Int
        let kernel_size, strides, dilation_rate: [Int]
        let padding: String
        let output_padding: [Int]?
        let input, kernel, bias, output, upstream, input_gradient, kernel_gradient, bias_gradient: FixtureTensor
    }
    struct Fixture: Decodable { let cases: [Case] }

    @Test(arguments: 0..<5, CPUBackend.paths)
    func matchesPyTorch(index: Int, kernel: String) throws {
        let c = try Fixtures.load("conv_transpose.json", as: Fixture.self).cases[index]
        let layer = Conv2DTranspose(filters: c.filters, kernelSize: Size2D(c.kernel_size[0], c.kernel_size[1]),
                                    strides: Size2D(c.strides[0], c.strides[1]), padding: Padding(rawValue: c.padding)!,
                                    outputPadding: c.output_padding.map { Size2D($0[0], $0[1]) },
                                    dilationRate: Size2D(c.dilation_rate[0], c.dilation_rate[1]))
        layer.threads = 2
        var generator = RandomGenerator(seed: 0)
        let shape = try layer.build(inputShape: Array(c.input.shape.dropFirst()), generator: &generator)
        #expect(shape == Array(c.output.shape.dropFirst()))
        layer.kernel.tensor = c.kernel.tensor
        layer.bias!.tensor = c.bias.tensor
        let context = ForwardContext(training: true, backend: CPUBackend.path(kernel))
        expectClose(layer.forward(c.input.tensor, context: context), c.output.tensor, relative: 1e-5, absolute: 1e-5, "output")
        expectClose(layer.backward(c.upstream.tensor), c.input_gradient.tensor, relative: 1e-4, absolute: 1e-5, "input gradient")
        expectClose(layer.kernel.gradientTensor, c.kernel_gradient.tensor, relative: 1e-4, absolute: 1e-5, "kernel gradient")
        expectClose(layer.bias!.gradientTensor, c.bias_gradient.tensor, relative: 1e-4, absolute: 1e-5, "bias gradient")
    }

    @Test(arguments: [(Padding.valid, 2, 1, nil), (.same, 2, 1, nil), (.valid, 1, 2, nil), (.same, 3, 1, Size2D(2, 1))])
    func gradientMatchesFiniteDifferences(padding: Padding, stride: Int, dilation: Int, outputPadding: Size2D?) throws {
        var generator = RandomGenerator(seed: 41)
        let layer = Conv2DTranspose(filters: 2, kernelSize: Size2D(3, 2), strides: Size2D(stride), padding: padding,
                                    outputPadding: outputPadding, dilationRate: Size2D(dilation), activation: .tanh)
        try layer.build(inputShape: [3, 2, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 3, 2, 2], generator: &generator))
    }

    /// The layer is the input gradient of the convolution it transposes: the same kernel, strides,
    /// dilation and padding from its output's size back to its input's.
    @Test(arguments: [(Padding.valid, Size2D(2), Size2D(1)), (.same, Size2D(2, 3), Size2D(1)), (.valid, Size2D(1), Size2D(2))])
    func isTheInputGradientOfTheConvolutionItTransposes(padding: Padding, strides: Size2D, dilation: Size2D) throws {
        var generator = RandomGenerator(seed: 42)
        let transposed = Conv2DTranspose(filters: 3, kernelSize: Size2D(3), strides: strides, padding: padding,
                                         dilationRate: dilation, useBias: false)
        let outputShape = try transposed.build(inputShape: [4, 3, 2], generator: &generator)
        let convolution = Conv2D(filters: 2, kernelSize: Size2D(3), strides: strides, padding: padding, dilationRate: dilation,
                                 useBias: false)
        #expect(try convolution.build(inputShape: outputShape, generator: &generator) == [4, 3, 2])
        convolution.kernel.tensor = transposed.kernel.tensor
        let x = randomTensor([2, 4, 3, 2], generator: &generator)
        _ = convolution.forward(randomTensor([2] + outputShape, generator: &generator), training: true)
        expectClose(transposed.forward(x, training: false), convolution.backward(x), relative: 1e-5, absolute: 1e-6, "transposed")
    }

    @Test func outputSizesFollowKerasRules() throws {
        var generator = RandomGenerator(seed: 43)
        func shape(_ padding: Padding, kernel: Int, stride: Int, dilation: Int = 1, outputPadding: Int? = nil,
                   input: [Int] = [7, 7, 3]) throws -> [Int] {
            try Conv2DTranspose(filters: 4, kernelSize: Size2D(kernel), strides: Size2D(stride), padding: padding,
                                outputPadding: outputPadding.map { Size2D($0) }, dilationRate: Size2D(dilation))
                .build(inputShape: input, generator: &generator)
        }
        #expect(try shape(.valid, kernel: 3, stride: 1) == [9, 9, 4])
        #expect(try shape(.valid, kernel: 3, stride: 2) == [15, 15, 4])
        #expect(try shape(.valid, kernel: 2, stride: 3) == [21, 21, 4])
        #expect(try shape(.same, kernel: 3, stride: 2) == [14, 14, 4])
        #expect(try shape(.same, kernel: 3, stride: 2, outputPadding: 0) == [13, 13, 4])
        #expect(try shape(.same, kernel: 3, stride: 2, outputPadding: 1) == [14, 14, 4])
        #expect(try shape(.valid, kernel: 3, stride: 1, dilation: 2) == [11, 11, 4])
        #expect(try shape(.same, kernel: 5, stride: 2, input: [28, 28]) == [56, 56, 4])
    }

    @Test func settingsThatCannotWorkAreErrors() throws {
        var generator = RandomGenerator(seed: 44)
        func make(_ json: String) throws -> any Layer {
            try JSONDecoder().decode(LayerDescription.self, from: Data(json.utf8)).makeLayer()
        }
        #expect(throws: ShapeError.self) { try make(#"{"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}"#) }
        #expect(throws: ShapeError.self) { try make(#"{"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "padding": "causal"}"#) }
        #expect(throws: ShapeError.self) { try make(#"{"type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "activation": "softmax"}"#) }
        #expect(throws: ShapeError.self) { try make(#"{"type": "Conv2DTranspose", "filters": 0, "kernel_size": 3}"#) }
        // An even window with same padding and output_padding 0: one row gives Keras' size 0 rows, and
        // three rows (strides 2) give 4, from which the convolution comes back to 2, not 3.
        #expect(throws: ShapeError.self) {
            try Conv2DTranspose(filters: 2, kernelSize: Size2D(4), padding: .same, outputPadding: Size2D(0))
                .build(inputShape: [1, 1], generator: &generator)
        }
        #expect(throws: ShapeError.self) {
            try Conv2DTranspose(filters: 2, kernelSize: Size2D(4), strides: Size2D(2), padding: .same, outputPadding: Size2D(0))
                .build(inputShape: [3, 3], generator: &generator)
        }
        #expect(throws: ShapeError.self) { try Conv2DTranspose(filters: 2, kernelSize: Size2D(2)).build(inputShape: [4], generator: &generator) }
    }

    /// Outputs past 32-bit indices per image are refused as too large (not an overflow trap).
    @Test func imagesTooLargeToIndexAreRefused() throws {
        #expect {
            try ModelSpec.model("deconv(1, 1, strides=37449) deconv(16777216, 1)").build(inputShape: [28, 28], seed: 0)
        } throws: { ($0 as? ShapeError)?.isTooLarge == true }
        #expect {
            try ModelSpec.model("upsample(2340) upsample(65535)").build(inputShape: [28, 28], seed: 0)
        } throws: { ($0 as? ShapeError)?.isTooLarge == true }
        #expect {
            try ModelSpec.model("zeropad(1000000) conv(4000, 1)").build(inputShape: [28, 28], seed: 0)
        } throws: { ($0 as? ShapeError)?.isTooLarge == true }
    }

    @Test func modelSpecsNameItShort() throws {
        let layers = try ModelSpec.layers("conv(8, 3x3, stride 2, padding=same, relu) deconv(1, 3x3, stride 2, padding=same, output_padding=1)")
        let last = try #require(try layers[1].makeLayer() as? Conv2DTranspose)
        #expect(last.filters == 1 && last.strides == Size2D(2) && last.padding == .same && last.outputPadding == Size2D(1))
        #expect(try ModelSpec.layers("conv2dtranspose(4, 2)")[0].type == Conv2DTranspose.typeName)
    }

    /// A convolutional autoencoder (down with a strided convolution, up with a transposed one)
    /// learns to reproduce smooth images: its reconstruction error falls well below the start.
    @Test func anAutoencoderLearnsToReconstruct() throws {
        var images: [Float] = []
        for n in 0..<64 {
            for k in 0..<64 {
                let (row, column) = (Double(k / 8 + n % 5), Double(k % 8 + n % 3))
                images.append(Float(sin(row * 0.7) * cos(column * 0.5)))
            }
        }
        let model = try ModelSpec.model("conv(8, 3x3, stride 2, padding=same, tanh) deconv(1, 3x3, stride 2, padding=same)")
        try model.build(inputShape: [8, 8, 1], seed: 7)
        let data = try Dataset(inputs: FloatSamples(values: images, sampleShape: [8, 8, 1]),
                               values: FloatSamples(values: images, sampleShape: [8, 8, 1]))
        let before = try model.evaluate(data, loss: .meanSquaredError, batchSize: 64).loss
        try model.fit(data, loss: .meanSquaredError, optimizer: Adam(learningRate: 0.01), epochs: 60, batchSize: 16, seed: 1)
        let after = try model.evaluate(data, loss: .meanSquaredError, batchSize: 64).loss
        #expect(after < before / 10, "\(before) → \(after)")
    }
}
