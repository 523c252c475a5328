import Testing
@testable import NeuralNetworks

struct GaussianNoiseTests {
    @Test func noiseOnlyWhileTrainingWithTheGivenSpread() {
        let noise = GaussianNoise(stddev: 0.5)
        let x = Tensor(zeros: [100, 100])
        #expect(noise.forward(x, training: false) == x)
        let y = noise.forward(x, training: true).scalars
        let mean = y.reduce(0, +) / Float(y.count)
        let variance = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(y.count)
        #expect(abs(mean) < 0.02 && abs(variance.squareRoot() - 0.5) < 0.02)
    }

    @Test func gradientPassesUnchanged() throws {
        var generator = RandomGenerator(seed: 8)
        let noise = GaussianNoise(stddev: 0.3)
        try noise.build(inputShape: [5], generator: &generator)
        checkGradients(of: noise, input: randomTensor([3, 5], generator: &generator))
    }
}
