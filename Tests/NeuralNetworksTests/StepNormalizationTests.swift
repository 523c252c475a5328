import Foundation
import Testing
@testable import NeuralNetworks

/// Batch normalisation inside recurrent layers, per time step (`StepNormalization`): the input
/// projection of each step normalised by that step's batch statistics in training and by its
/// moving averages in inference.
struct StepNormalizationTests {
    typealias Kind = SequenceLengthsTests.Kind

    static func make(_ kind: Kind, returnSequences: Bool = true, goBackwards: Bool = false, activation: Activation = .tanh,
                     settings: StepNormalizationSettings = StepNormalizationSettings()) -> any RecurrentLayer {
        switch kind {
        case .rnn: SimpleRNN(units: 3, activation: activation, returnSequences: returnSequences, goBackwards: goBackwards,
                             batchNormalization: settings)
        case .gru: GRU(units: 3, returnSequences: returnSequences, goBackwards: goBackwards, batchNormalization: settings)
        case .originalGRU: GRU(units: 3, returnSequences: returnSequences, goBackwards: goBackwards, resetAfter: false,
                               batchNormalization: settings)
        case .lstm: LSTM(units: 3, returnSequences: returnSequences, goBackwards: goBackwards, batchNormalization: settings)
        }
    }

    @Test(arguments: Kind.allCases, [false, true])
    func gradientsThroughPerStepStatisticsMatchFiniteDifferences(kind: Kind, goBackwards: Bool) throws {
        var generator = RandomGenerator(seed: 21)
        let layer = Self.make(kind, goBackwards: goBackwards)
        try layer.build(inputShape: [4, 2], generator: &generator)
        for parameter in layer.allParameters where parameter.localName == "gamma" || parameter.localName == "beta" {
            parameter.tensor = randomTensor(parameter.shape, scale: 0.5, generator: &generator)
        }
        checkGradients(of: layer, input: randomTensor([3, 4, 2], generator: &generator), tolerance: 3e-3)
    }

    @Test(arguments: Kind.allCases)
    func statisticsCountEachStepsRealRowsOnly(kind: Kind) throws {
        var generator = RandomGenerator(seed: 22)
        let layer = Bidirectional(Self.make(kind), threads: 1)
        try layer.build(inputShape: [4, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([4, 4, 2], generator: &generator), tolerance: 3e-3,
                       sequenceLengths: [4, 2, 3, 1])
    }

    /// A linear SimpleRNN with no recurrence outputs its normalised projection plus its bias:
    /// each step's outputs have the bias as their batch mean and unit variance (less ε's share).
    @Test func eachStepIsNormalisedOverTheBatchWithItsOwnStatistics() throws {
        var generator = RandomGenerator(seed: 23)
        let rnn = SimpleRNN(units: 3, activation: .linear, returnSequences: true, biasInitializer: .constant(0.5),
                            batchNormalization: StepNormalizationSettings(epsilon: 1e-6))
        try rnn.build(inputShape: [4, 2], generator: &generator)
        rnn.recurrentKernel.tensor = Tensor(zeros: [3, 3])
        var x = randomTensor([16, 4, 2], generator: &generator)
        for b in 0..<16 { for t in 0..<4 { for f in 0..<2 { x.scalars[(b * 4 + t) * 2 + f] += Float(3 * t) } } }  // steps differ
        let y = rnn.forward(x, training: true)
        for t in 0..<4 {
            for j in 0..<3 {
                let column = (0..<16).map { Double(y.scalars[($0 * 4 + t) * 3 + j]) }
                let mean = column.reduce(0, +) / 16
                let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 16
                #expect(abs(mean - 0.5) < 1e-5, "step \(t) unit \(j): mean \(mean)")
                #expect(abs(variance - 1) < 1e-3, "step \(t) unit \(j): variance \(variance)")
            }
        }
    }

    @Test func movingAveragesFollowEachStepsBatchStatistics() throws {
        var generator = RandomGenerator(seed: 24)
        let rnn = SimpleRNN(units: 2, returnSequences: true, batchNormalization: StepNormalizationSettings(momentum: 0.9))
        try rnn.build(inputShape: [3, 2], generator: &generator)
        let x = randomTensor([5, 3, 2], generator: &generator)
        _ = rnn.forward(x, training: true)
        let kernel = rnn.kernel.tensor.scalars
        let means = rnn.parameters.first { $0.localName == "moving_mean" }!.tensor.scalars
        let variances = rnn.parameters.first { $0.localName == "moving_variance" }!.tensor.scalars
        for t in 0..<3 {
            for j in 0..<2 {
                let projections = (0..<5).map { b in
                    (0..<2).reduce(0.0) { $0 + Double(x.scalars[(b * 3 + t) * 2 + $1]) * Double(kernel[$1 * 2 + j]) }
                }
                let mean = projections.reduce(0, +) / 5
                let unbiased = projections.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4
                #expect(abs(Double(means[t * 2 + j]) - 0.1 * mean) < 1e-5)
                #expect(abs(Double(variances[t * 2 + j]) - (0.9 + 0.1 * unbiased)) < 1e-5)
            }
        }
    }

    /// With the same moving statistics at every step, inference normalisation is one affine map:
    /// the LSTM equals one without normalisation whose kernel and bias fold it in. This checks the
    /// LSTM's step-by-step inference pass; the others share the all-steps one.
    @Test(arguments: Kind.allCases)
    func inferenceUsesTheMovingStatistics(kind: Kind) throws {
        var generator = RandomGenerator(seed: 25)
        let normalised = Self.make(kind)
        let plain: any RecurrentLayer = switch kind {
        case .rnn: SimpleRNN(units: 3, returnSequences: true)
        case .gru: GRU(units: 3, returnSequences: true)
        case .originalGRU: GRU(units: 3, returnSequences: true, resetAfter: false)
        case .lstm: LSTM(units: 3, returnSequences: true)
        }
        try normalised.build(inputShape: [4, 2], generator: &generator)
        try plain.build(inputShape: [4, 2], generator: &generator)
        let named = Dictionary(uniqueKeysWithValues: normalised.parameters.map { ($0.localName, $0) })
        let width = named["gamma"]!.count
        let (gamma, beta) = ((0..<width).map { _ in Float(generator.uniform(0.5, 1.5)) }, (0..<width).map { _ in Float(generator.normal()) })
        let (mean, variance) = ((0..<width).map { _ in Float(generator.normal()) }, (0..<width).map { _ in Float(generator.uniform(0.5, 1.5)) })
        named["gamma"]!.tensor = Tensor(shape: [width], scalars: gamma)
        named["beta"]!.tensor = Tensor(shape: [width], scalars: beta)
        named["moving_mean"]!.tensor = Tensor(shape: [4, width], scalars: Array((0..<4).map { _ in mean }.joined()))
        named["moving_variance"]!.tensor = Tensor(shape: [4, width], scalars: Array((0..<4).map { _ in variance }.joined()))
        let scale = (0..<width).map { gamma[$0] / (variance[$0] + 1e-3).squareRoot() }
        for (target, source) in zip(plain.parameters, normalised.parameters) {
            switch source.localName {
            case "kernel":
                var folded = source.tensor
                for k in 0..<folded.count { folded.scalars[k] *= scale[k % width] }
                target.tensor = folded
            case "bias":
                target.tensor = Tensor(shape: [width], scalars: (0..<width).map {
                    source.tensor.scalars[$0] + beta[$0] - mean[$0] * scale[$0]
                })
            default: target.tensor = source.tensor
            }
        }
        let x = randomTensor([3, 4, 2], generator: &generator)
        expectClose(normalised.forward(x, training: false), plain.forward(x, training: false), relative: 1e-4, absolute: 1e-5,
                    "inference")
    }

    @Test func specsFilesAndSummariesCarryTheNormalisation() throws {
        let model = try ModelSpec.model("lstm(4, seq, batch_normalization=true) gru(3, batch_normalization: false) dense(2, softmax)")
        try model.build(inputShape: [5, 2], seed: 1)
        let lstm = try #require(model.layers[0] as? LSTM), gru = try #require(model.layers[1] as? GRU)
        #expect(lstm.batchNormalization == StepNormalizationSettings() && gru.batchNormalization?.isEnabled == false)
        // γ and β (16 + 16) train; the moving statistics (2 × 5 steps × 16) do not.
        #expect(model.parameterCount - model.trainableParameterCount == 160)
        #expect(model.summary().contains("Non-trainable params: 160"))
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("m.safetensors").path
        var generator = RandomGenerator(seed: 2)
        _ = model.forward(randomTensor([4, 5, 2], generator: &generator), training: true)  // moves the statistics
        try model.save(to: path)
        let loaded = try Sequential.load(from: path)
        let x = randomTensor([3, 5, 2], generator: &generator)
        #expect(loaded.forward(x) == model.forward(x))
        #expect(throws: ShapeError.self) { try lstm.pyTorchModules() }
    }

    @Test func aNormalisedGRUTrainsOnPaddedSequences() throws {
        let model = try ModelSpec.model("gru(8, batch_normalization=true) dense(2, softmax)")
        let data = try SequenceLengthsTests.dataset(padding: 0)
        let history = try model.fit(data, validation: data, optimizer: Adam(learningRate: 0.01), epochs: 6, batchSize: 16, seed: 4)
        // Sequences of one step are right 84% of the time at best (a unit normal's sign against ±1).
        #expect(history.last!.testAccuracy! > 0.85, "\(history.map(\.testAccuracy))")
        #expect(history.last!.trainLoss < history.first!.trainLoss)
    }
}
