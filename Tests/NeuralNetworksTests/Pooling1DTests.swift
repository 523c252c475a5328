import Foundation
import Testing
@testable import NeuralNetworks

/// `MaxPooling1D` and `AveragePooling1D` (windows over the steps) against PyTorch's pooling on
/// `[N, C, L]`, by finite differences, in a model that saves, exports and refuses padded sequences.
struct Pooling1DTests {
    struct Case: Decodable { let output, upstream, input_gradient: FixtureTensor }
    struct Fixture: Decodable {
        let input: FixtureTensor
        let max, average: Case
    }

    static func layer(_ kind: String) -> any Layer {
        kind == "max" ? MaxPooling1D(poolSize: 3, strides: 2) : AveragePooling1D(poolSize: 2, padding: .same)
    }

    @Test(arguments: ["max", "average"])
    func matchesPyTorchForwardAndBackward(_ kind: String) throws {
        let f = try Fixtures.load("window_pooling1d.json", as: Fixture.self)
        let layer = Self.layer(kind)
        var generator = RandomGenerator(seed: 1)
        #expect(try layer.build(inputShape: [7, 3], generator: &generator) == (kind == "max" ? [3, 3] : [4, 3]))
        let expected = kind == "max" ? f.max : f.average
        expectClose(layer.forward(f.input.tensor, training: true), expected.output.tensor, "\(kind) output")
        expectClose(layer.backward(expected.upstream.tensor), expected.input_gradient.tensor, "\(kind) input gradient")
    }

    @Test(arguments: ["max", "average"])
    func gradientsMatchFiniteDifferences(_ kind: String) throws {
        let layer = Self.layer(kind)
        var generator = RandomGenerator(seed: 2)
        try layer.build(inputShape: [7, 3], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 7, 3], generator: &generator))
    }

    @Test func refusesWhatItCannotTake() throws {
        var generator = RandomGenerator(seed: 3)
        #expect(throws: ShapeError.self) { try MaxPooling1D().build(inputShape: [4, 4, 2], generator: &generator) }
        #expect(throws: ShapeError.self) { try AveragePooling1D(poolSize: 5).build(inputShape: [4, 2], generator: &generator) }
        #expect(throws: ModelSpecError.self) { try ModelSpec.model("maxpool1d(0)") }
        #expect(throws: ModelSpecError.self) { try ModelSpec.model("maxpool1d(2, padding=causal)") }
        let tooWide = #expect(throws: ShapeError.self) { try MaxPooling1D(poolSize: 100).build(inputShape: [28, 2], generator: &generator) }
        #expect(tooWide?.description.contains("a window of 100 steps does not fit sequences of 28") == true)
        // Strides or windows far beyond any sequence: refused, not an overflow; a same window larger
        // than the sequence visits only its steps inside (it ran every tap of its span).
        let huge = try ModelSpec.model("maxpool1d(2, 9223372036854775807, padding=same) flatten dense(2, softmax)")
        #expect(throws: ShapeError.self) { try huge.build(inputShape: [6, 3], seed: 1) }
        let wide = AveragePooling1D(poolSize: 1 << 20, strides: 1, padding: .same)
        try wide.build(inputShape: [6, 3], generator: &generator)
        let x = randomTensor([2, 6, 3], generator: &generator)
        let pooled = wide.forward(x, training: false)
        // Every window covers the whole sequence: each output is the mean over the steps.
        for k in 0..<3 {
            let mean = (0..<6).reduce(Float(0)) { $0 + x.scalars[$1 * 3 + k] } / 6
            #expect(abs(pooled.scalars[k] - mean) < 1e-5)
        }
        // Pooling changes what a step is: padded sequences may not go through it.
        let model = try ModelSpec.model("maxpool1d(2) gru(4) dense(2, softmax)")
        try model.build(inputShape: [6, 3], seed: 1)
        #expect(throws: ShapeError.self) { try model.checkPaddedSequences() }
    }

    /// A 1-D convolutional model with both poolings trains, saves, loads and exports to PyTorch
    /// (each pooling as its 2-D module on one-row images).
    @Test func aConvolutionalModelTrainsSavesAndExports() throws {
        var generator = RandomGenerator(seed: 4)
        let x = (0..<(64 * 12 * 2)).map { _ in Float(generator.normal()) }
        let labels = (0..<64).map { x[$0 * 24 + 5] > 0 ? 1 : 0 }
        let data = try Dataset(inputs: FloatSamples(values: x, sampleShape: [12, 2]), labels: labels, classCount: 2)
        let model = try ModelSpec.model("conv1d(4, 3, relu, padding=same) maxpool1d(2) avgpool1d(2, padding=same) flatten dense(2, softmax)")
        let reports = try model.fit(data, optimizer: Adam(learningRate: 0.02), epochs: 10, batchSize: 16, seed: 1)
        #expect(reports.last!.trainLoss < reports.first!.trainLoss)
        #expect(model.layers.map(\.typeName).contains("MaxPooling1D") && model.outputShape == [2])
        let path = try ModelFileTests.temporaryFile("pooling1d.safetensors")
        try model.save(to: path)
        let inputs = try data.inputs.tensor([0, 1, 2])
        #expect(try Sequential.load(from: path).predict(inputs) == model.predict(inputs))
        let exported = try PyTorchModule.sequential(model.layers)
        #expect(exported.code.contains("OneRow(KerasMaxPool2d((1, 2), (1, 2), (0, 0, 0, 0)))"), "\(exported.code)")
        #expect(exported.code.contains("OneRow(KerasAvgPool2d((1, 2), (1, 2), (0, 0, 0, 0)))"), "\(exported.code)")
    }
}
