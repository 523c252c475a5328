import Foundation
import Testing
@testable import NeuralNetworks

struct NormalizationTests {
    @Test func adaptSetsPopulationStatisticsPerFeatureOrForAll() throws {
        let inputs = FloatSamples(values: [1, 10, 3, 20, 5, 60], sampleShape: [2])
        let data = try Dataset(inputs: inputs, labels: [0, 1, 0])
        let perFeature = Normalization()
        var generator = RandomGenerator(seed: 1)
        try perFeature.build(inputShape: [2], generator: &generator)
        try perFeature.adapt(to: data, batchSize: 2)
        #expect(perFeature.mean.tensor.scalars == [3, 30])
        #expect(abs(perFeature.variance.tensor.scalars[0] - 8 / 3) < 1e-5)
        #expect(abs(perFeature.variance.tensor.scalars[1] - 1400 / 3) < 1e-3)
        let output = perFeature.forward(Tensor(shape: [1, 2], scalars: [3, 30]), training: false)
        #expect(output.scalars == [0, 0])
        let all = Normalization(perFeature: false)
        try all.build(inputShape: [2], generator: &generator)
        try all.adapt(to: data)
        #expect(all.mean.tensor.shape == [1] && abs(all.mean.tensor.scalars[0] - 99 / 6) < 1e-5)
    }

    @Test func statisticsAreBuffersSavedWithTheModelNotTrained() throws {
        let model = Sequential { Normalization(); Dense(units: 2, activation: .softmax) }
        try model.build(inputShape: [3], seed: 1)
        let layer = model.layers[0] as! Normalization
        layer.mean.tensor = Tensor(shape: [3], scalars: [1, 2, 3])
        layer.variance.tensor = Tensor(shape: [3], scalars: [4, 9, 16])
        #expect(model.trainableParameters.count == 2)
        let path = try ModelFileTests.temporaryFile("normalized.safetensors")
        try model.save(to: path)
        let loaded = try Sequential.load(from: path)
        let x = Tensor(shape: [1, 3], scalars: [3, 5, 7])
        #expect(loaded.predict(x) == model.predict(x))
        #expect((loaded.layers[0] as! Normalization).variance.tensor.scalars == [4, 9, 16])
    }

    @Test func rescalingScalesAndShiftsAndItsGradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 2)
        let layer = Rescaling(scale: 1 / 255, offset: -0.5)
        try layer.build(inputShape: [3], generator: &generator)
        #expect(layer.forward(Tensor(shape: [1, 3], scalars: [0, 255, 102]), training: false).scalars == [-0.5, 0.5, 102 * (1 / 255) - 0.5])
        checkGradients(of: layer, input: randomTensor([2, 3], generator: &generator))
    }

    @Test func gradientMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 4)
        let layer = Normalization()
        try layer.build(inputShape: [2, 3], generator: &generator)
        layer.mean.tensor = Tensor(shape: [3], scalars: [0.5, -1, 2])
        layer.variance.tensor = Tensor(shape: [3], scalars: [0.25, 4, 1])
        checkGradients(of: layer, input: randomTensor([2, 2, 3], generator: &generator))
    }
}
