import Testing
@testable import NeuralNetworks

struct BidirectionalTests {
    struct Case: Decodable {
        let output, upstream, input_gradient: FixtureTensor
        let forward_gradients, backward_gradients: LSTMTests.Weights
    }

    struct Fixture: Decodable {
        let forward, backward: LSTMTests.Weights
        let input: FixtureTensor
        let last, sequences: Case
    }

    @Test(arguments: [false, true])
    func bidirectionalGradientMatchesFiniteDifferences(returnSequences: Bool) throws {
        var generator = RandomGenerator(seed: 8)
        let layer = Bidirectional(LSTM(units: 3, returnSequences: returnSequences,
                                       biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.2)))
        _ = try layer.build(inputShape: [4, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 4, 2], generator: &generator))
    }

    @Test(arguments: ["last", "sequences"])
    func bidirectionalMatchesPyTorch(mode: String) throws {
        let f = try Fixtures.load("bilstm_sigmoid.json", as: Fixture.self)
        let expected = mode == "last" ? f.last : f.sequences
        let layer = Bidirectional(LSTM(units: 4, recurrentActivation: .sigmoid, returnSequences: mode == "sequences"))
        var generator = RandomGenerator(seed: 0)
        _ = try layer.build(inputShape: [5, 3], generator: &generator)
        LSTMTests.load(layer.forwardLayer as! LSTM, f.forward)
        LSTMTests.load(layer.backwardLayer as! LSTM, f.backward)
        expectClose(layer.forward(f.input.tensor, training: true), expected.output.tensor, "output")
        expectClose(layer.backward(expected.upstream.tensor), expected.input_gradient.tensor, "input gradient")
        LSTMTests.expectGradients(layer.forwardLayer as! LSTM, expected.forward_gradients, "forward")
        LSTMTests.expectGradients(layer.backwardLayer as! LSTM, expected.backward_gradients, "backward")
    }

    @Test func parallelDirectionsGiveBitIdenticalResults() throws {
        var results: [[Float]] = []
        for parallel in [false, true] {
            var generator = RandomGenerator(seed: 4)
            let layer = Bidirectional(LSTM(units: 16), threads: parallel ? 2 : 1)
            _ = try layer.build(inputShape: [7, 5], generator: &generator)
            let x = randomTensor([9, 7, 5], generator: &generator)
            let y = layer.forward(x, training: true)
            let dx = layer.backward(randomTensor(y.shape, generator: &generator))
            results.append(y.scalars + dx.scalars + layer.allParameters.flatMap(\.gradientTensor.scalars))
        }
        #expect(results[0] == results[1])
    }

    @Test func fourThreadsSplitEachDirectionInTwoAndMatchOneThread() throws {
        var results: [[Tensor]] = []
        for threads in [1, 4] {
            var generator = RandomGenerator(seed: 9)
            let layer = Bidirectional(LSTM(units: 10), threads: threads)
            _ = try layer.build(inputShape: [6, 4], generator: &generator)
            #expect(layer.forwardLayer.threads == max(1, threads / 2) && layer.backwardLayer.threads == layer.forwardLayer.threads)
            let x = randomTensor([9, 6, 4], generator: &generator)
            let y = layer.forward(x, training: true)
            let dx = layer.backward(randomTensor(y.shape, generator: &generator))
            results.append([y, dx] + layer.allParameters.map(\.gradientTensor))
        }
        for (index, (a, b)) in zip(results[1], results[0]).enumerated() { expectClose(a, b, "tensor \(index)") }
    }

    @Test(arguments: [false, true])
    func timingAccountsForEveryPassAndEachDirection(parallel: Bool) throws {
        var generator = RandomGenerator(seed: 5)
        let layer = Bidirectional(LSTM(units: 8), threads: parallel ? 2 : 1)
        _ = try layer.build(inputShape: [6, 4], generator: &generator)
        let y = layer.forward(randomTensor([5, 6, 4], generator: &generator), training: true)
        _ = layer.backward(randomTensor(y.shape, generator: &generator))
        let timing = layer.timing
        #expect(timing.passes == 2)
        #expect(timing.busySeconds.allSatisfy { $0 > 0 && $0 <= timing.wallSeconds })
        if parallel {
            // Half the summed per-pass differences: at least half the difference of the sums, and
            // at most half the wall time (no pass's difference exceeds its wall time).
            let totalDifference = abs(timing.busySeconds[0] - timing.busySeconds[1])
            #expect(timing.imbalanceSeconds >= totalDifference / 2 * 0.999999)
            #expect(timing.imbalanceSeconds <= timing.wallSeconds / 2)
        } else {
            #expect(timing.imbalanceSeconds == 0, "directions in turn leave no core waiting")
            #expect(timing.busySeconds.reduce(0, +) <= timing.wallSeconds)
        }
        layer.resetTiming()
        #expect(layer.timing == DirectionTiming())
    }

    @Test func parametersAreNamedByDirection() throws {
        let model = Sequential { Bidirectional(LSTM(units: 2)); Dense(units: 3) }
        try model.build(inputShape: [4, 5], seed: 0)
        #expect(model.parameters.map(\.name) == [
            "bidirectional.forward.kernel", "bidirectional.forward.recurrent_kernel", "bidirectional.forward.bias",
            "bidirectional.backward.kernel", "bidirectional.backward.recurrent_kernel", "bidirectional.backward.bias",
            "dense.kernel", "dense.bias",
        ])
    }

    /// Each merge mode's gradient, over every step and over the last states, with GRU and
    /// SimpleRNN directions (mul reads the other direction's output).
    @Test(arguments: Bidirectional.MergeMode.allCases, [false, true])
    func mergeModeGradientMatchesFiniteDifferences(mode: Bidirectional.MergeMode, returnSequences: Bool) throws {
        var generator = RandomGenerator(seed: 13)
        let inner: any RecurrentLayer = returnSequences
            ? GRU(units: 3, returnSequences: true, biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.3))
            : SimpleRNN(units: 3, biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.3))
        let layer = Bidirectional(inner, mergeMode: mode)
        #expect(try layer.build(inputShape: [4, 2], generator: &generator).last == (mode == .concat ? 6 : 3))
        checkGradients(of: layer, input: randomTensor([2, 4, 2], generator: &generator))
    }

    /// sum, ave and mul are the concatenated halves added, averaged and multiplied, step by step.
    @Test(arguments: [Bidirectional.MergeMode.sum, .ave, .mul])
    func mergedOutputIsTheConcatenatedHalvesCombined(mode: Bidirectional.MergeMode) throws {
        var generator = RandomGenerator(seed: 14)
        let concatenated = Bidirectional(GRU(units: 3, returnSequences: true))
        let merged = Bidirectional(GRU(units: 3, returnSequences: true), mergeMode: mode)
        _ = try concatenated.build(inputShape: [4, 2], generator: &generator)
        _ = try merged.build(inputShape: [4, 2], generator: &generator)
        for (a, b) in zip(merged.allParameters, concatenated.allParameters) { a.tensor = b.tensor }
        let x = randomTensor([2, 4, 2], generator: &generator)
        let halves = concatenated.forward(x, training: false), output = merged.forward(x, training: false)
        #expect(output.shape == [2, 4, 3])
        for row in 0..<2 {
            for t in 0..<4 {
                for j in 0..<3 {
                    let (f, b) = (halves[row, t, j], halves[row, t, 3 + j])
                    let expected = mode == .sum ? f + b : mode == .ave ? (f + b) / 2 : f * b
                    #expect(abs(output[row, t, j] - expected) <= 1e-6)
                }
            }
        }
    }

    @Test func mergeModeIsWrittenInSpecsAndKeptInModelFiles() throws {
        let spelled = ["bi(gru(4), merge: sum)", "bidirectional(gru(4), sum)", "bidirectional(gru(4), merge_mode=sum)",
                       "bi(gru(4), merge=sum)"]
        let described = try spelled.map { try ModelSpec.layers($0, classes: 3) }
        for description in described.dropFirst() { #expect(description == described[0]) }
        #expect(try ModelSpec.layers("bi(gru(4), average)") == ModelSpec.layers("bi(gru(4), ave)"))
        #expect(throws: ModelSpecError.self) { try ModelSpec.layers("bi(gru(4), merge: max)") }
        #expect(throws: ModelSpecError.self) { try ModelSpec.layers("bi(gru(4), merge: sum, merge_mode: mul)") }
        let model = try ModelSpec.model("bi(gru(4), mul) dense(classes)", classes: 3)
        try model.build(inputShape: [5, 2], seed: 1)
        let path = try ModelFileTests.temporaryFile("merged.safetensors")
        try model.save(to: path)
        let loaded = try Sequential.load(from: path)
        #expect((loaded.layers[0] as? Bidirectional)?.mergeMode == .mul)
        var generator = RandomGenerator(seed: 2)
        let x = randomTensor([3, 5, 2], generator: &generator)
        #expect(loaded.predict(x) == model.predict(x))
    }
}
