import Foundation
import Testing
@testable import NeuralNetworks

/// `GlobalAveragePooling1D` and `GlobalMaxPooling1D` against PyTorch over each sample's real
/// steps (Keras' masked pooling), by finite differences, and at the end of a text model.
struct GlobalPooling1DTests {
    struct Case: Decodable { let output, input_gradient: FixtureTensor }
    struct Fixture: Decodable {
        let input, upstream: FixtureTensor
        let lengths: [Int]
        let average, max: Case
    }

    @Test(arguments: ["average", "max"])
    func matchesPyTorchOverTheRealSteps(_ kind: String) throws {
        let f = try Fixtures.load("pooling1d.json", as: Fixture.self)
        let layer: any Layer = kind == "average" ? GlobalAveragePooling1D() : GlobalMaxPooling1D()
        var generator = RandomGenerator(seed: 1)
        try layer.build(inputShape: [5, 4], generator: &generator)
        let expected = kind == "average" ? f.average : f.max
        let output = layer.forward(f.input.tensor, context: ForwardContext(training: true, sequenceLengths: f.lengths))
        expectClose(output, expected.output.tensor, "\(kind) output")
        expectClose(layer.backward(f.upstream.tensor), expected.input_gradient.tensor, "\(kind) input gradient")
    }

    @Test(arguments: ["average", "max"])
    func gradientsMatchFiniteDifferences(_ kind: String) throws {
        let layer: any Layer = kind == "average" ? GlobalAveragePooling1D() : GlobalMaxPooling1D()
        var generator = RandomGenerator(seed: 5)
        try layer.build(inputShape: [4, 3], generator: &generator)
        let x = randomTensor([2, 4, 3], generator: &generator)
        checkGradients(of: layer, input: x)
        checkGradients(of: layer, input: x, sequenceLengths: [2, 4])
    }

    /// Inside `TimeDistributed` the pooling reads the inner axis (words of each step), not the
    /// outer lengths (it read N lengths for N × steps rows, past their end).
    @Test func insideTimeDistributedItPoolsTheInnerAxis() throws {
        var generator = RandomGenerator(seed: 7)
        let x = (0..<(8 * 4 * 3 * 2)).map { _ in Float(generator.normal()) }
        let data = try Dataset(inputs: FloatSamples(values: x, sampleShape: [4, 3, 2]), labels: (0..<8).map { $0 % 2 },
                               classCount: 2).withSequenceLengths([4, 1, 2, 3, 4, 4, 2, 1])
        for pooling in ["globalaveragepooling1d", "globalmaxpooling1d"] {
            let model = try ModelSpec.model("timedistributed(\(pooling)) gru(4) dense(2, softmax)")
            let reports = try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 4)
            #expect(reports.count == 1 && reports[0].trainLoss.isFinite, "\(pooling)")
        }
    }

    /// A text model, ids through an embedding pooled over each sample's real steps: whatever the
    /// padding holds changes nothing, and the model learns which id marks a class.
    @Test func aBagOfEmbeddingsIgnoresThePadding() throws {
        var generator = RandomGenerator(seed: 6)
        var ids: [Float] = [], labels: [Int] = [], lengths: [Int] = []
        for _ in 0..<160 {
            let length = 1 + Int(generator.next() % 6)
            let sample = (0..<6).map { _ in Float(generator.next() % 7) }
            ids += sample
            lengths.append(length)
            labels.append(sample.prefix(length).contains(6) ? 1 : 0)
        }
        func data(padding: Float) throws -> Dataset {
            let padded = ids.enumerated().map { $0 % 6 < lengths[$0 / 6] ? $1 : padding }
            return try Dataset(inputs: FloatSamples(values: padded, sampleShape: [6]), labels: labels, classCount: 2)
                .withSequenceLengths(lengths)
        }
        for pooling in ["globalaveragepooling1d", "globalmaxpooling1d"] {
            func run(padding: Float) throws -> [EpochReport] {
                let model = try ModelSpec.model("embedding(7, 8) \(pooling) dense(2, softmax)")
                let set = try data(padding: padding)
                return try model.fit(set, validation: set, optimizer: Adam(learningRate: 0.05), epochs: 15, batchSize: 16, seed: 2)
            }
            let zeros = try run(padding: 0), sixes = try run(padding: 6)
            #expect(zeros.map(\.trainLoss) == sixes.map(\.trainLoss), "\(pooling)")
            #expect(try #require(zeros.last?.testAccuracy) > 0.9, "\(pooling): \(zeros.map(\.testAccuracy))")
        }
    }
}
