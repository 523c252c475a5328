import Foundation
import Testing
@testable import NeuralNetworks

/// `PositionEmbedding` adds one learnt vector per position (its PyTorch form is checked with the
/// `attention` model of the PyTorch-sequential fixtures), by finite differences, and tells
/// attention where each step is.
struct PositionEmbeddingTests {
    @Test func addsTheSameVectorsToEverySample() throws {
        let layer = PositionEmbedding()
        var generator = RandomGenerator(seed: 1)
        try layer.build(inputShape: [3, 2], generator: &generator)
        let p = layer.embeddings.tensor.scalars
        let x = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        let expected: [Float] = (0..<12).map { Float($0) + p[$0 % 6] }
        #expect(layer.forward(x, training: true).scalars == expected)
        let upstream = Tensor(shape: [2, 3, 2], scalars: (0..<12).map { Float($0) / 4 })
        #expect(layer.backward(upstream) == upstream)
        let summed: [Float] = (0..<6).map { Float($0) / 4 + Float($0 + 6) / 4 }
        #expect(layer.embeddings.gradientTensor.scalars == summed)
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        let layer = PositionEmbedding()
        var generator = RandomGenerator(seed: 2)
        try layer.build(inputShape: [4, 3], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 4, 3], generator: &generator))
    }

    @Test func refusesInputsWithoutPositions() {
        var generator = RandomGenerator(seed: 3)
        #expect(throws: ShapeError.self) { try PositionEmbedding().build(inputShape: [], generator: &generator) }
        #expect(throws: ShapeError.self) { try PositionEmbedding().build(inputShape: [784], generator: &generator) }
    }

    /// Self-attention pooled over the steps sees a set: it cannot tell 5 before 6 from 6 before
    /// 5. With positions added it learns the order; both take padded sequences.
    @Test func positionsLetAttentionTellTheOrder() throws {
        var generator = RandomGenerator(seed: 4)
        var ids: [Float] = [], labels: [Int] = [], lengths: [Int] = []
        for _ in 0..<384 {
            let length = 3 + Int(generator.next() % 4)
            var sample = (0..<6).map { _ in Float(generator.next() % 5) }
            let first = Int(generator.next() % UInt64(length - 1))
            let second = first + 1 + Int(generator.next() % UInt64(length - first - 1))
            let ordered = generator.next() % 2 == 0
            (sample[first], sample[second]) = ordered ? (5, 6) : (6, 5)
            ids += sample
            lengths.append(length)
            labels.append(ordered ? 1 : 0)
        }
        let data = try Dataset(inputs: FloatSamples(values: ids, sampleShape: [6]), labels: labels, classCount: 2)
            .withSequenceLengths(lengths)
        func best(_ spec: String) throws -> Float {
            let model = try ModelSpec.model(spec)
            let reports = try model.fit(data, validation: data, optimizer: Adam(learningRate: 0.02), epochs: 25, batchSize: 16, seed: 2)
            return reports.compactMap(\.testAccuracy).max()!
        }
        let withPositions = try best("embedding(7, 8) positions mha(2) globalaveragepooling1d dense(2, softmax)")
        let without = try best("embedding(7, 8) mha(2) globalaveragepooling1d dense(2, softmax)")
        #expect(withPositions > 0.9 && without < 0.7, "with positions \(withPositions), without \(without)")
    }
}
