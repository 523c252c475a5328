import Foundation
import Testing
@testable import NeuralNetworks

struct LossTests {
    struct Fixture: Decodable {
        let logits, logits_gradient: FixtureTensor
        let labels: [Int]
        let loss: Float
    }

    @Test func softmaxCrossEntropyMatchesPyTorch() throws {
        let f = try Fixtures.load("dense.json", as: Fixture.self)
        let (value, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(logits: f.logits.tensor, labels: f.labels)
        #expect(value.isApproximatelyEqual(to: f.loss, relativeTolerance: 1e-5))
        expectClose(gradient, f.logits_gradient.tensor, "logits gradient")
    }

    @Test func softmaxCrossEntropyGradientMatchesFiniteDifferences() {
        var generator = RandomGenerator(seed: 2)
        let logits = randomTensor([4, 5], scale: 2, generator: &generator)
        let labels = [0, 4, 2, 2]
        let (_, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, labels: labels)
        let epsilon: Float = 1e-3
        for k in 0..<logits.count {
            var plus = logits, minus = logits
            plus.scalars[k] += epsilon
            minus.scalars[k] -= epsilon
            let numeric = (Loss.categoricalCrossEntropy.valueAndGradient(logits: plus, labels: labels).value
                - Loss.categoricalCrossEntropy.valueAndGradient(logits: minus, labels: labels).value) / (2 * epsilon)
            #expect(abs(numeric - gradient.scalars[k]) < 2e-3, "logit \(k)")
        }
    }

    @Test func crossEntropyOnProbabilitiesGradientMatchesFiniteDifferences() {
        let p = Tensor(shape: [2, 3], scalars: [0.2, 0.5, 0.3, 0.6, 0.1, 0.3])
        let labels = [1, 2]
        let (value, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(predictions: p, labels: labels)
        #expect(value.isApproximatelyEqual(to: -(logf(0.5) + logf(0.3)) / 2, relativeTolerance: 1e-6))
        let epsilon: Float = 1e-3
        for k in 0..<p.count {
            var plus = p, minus = p
            plus.scalars[k] += epsilon
            minus.scalars[k] -= epsilon
            let numeric = (Loss.categoricalCrossEntropy.valueAndGradient(predictions: plus, labels: labels).value
                - Loss.categoricalCrossEntropy.valueAndGradient(predictions: minus, labels: labels).value) / (2 * epsilon)
            #expect(abs(numeric - gradient.scalars[k]) < 2e-3, "probability \(k)")
        }
    }

    @Test func fusedAndUnfusedLossesAgree() {
        var generator = RandomGenerator(seed: 12)
        let logits = randomTensor([3, 4], generator: &generator)
        var probabilities = logits
        logits.scalars.withUnsafeBufferPointer { z in
            probabilities.scalars.withUnsafeMutableBufferPointer { p in
                Softmax.forward(z.baseAddress!, p.baseAddress!, rows: 3, width: 4)
            }
        }
        let fused = Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, labels: [3, 0, 1]).value
        let plain = Loss.categoricalCrossEntropy.valueAndGradient(predictions: probabilities, labels: [3, 0, 1]).value
        #expect(fused.isApproximatelyEqual(to: plain, relativeTolerance: 1e-5))
    }
}
