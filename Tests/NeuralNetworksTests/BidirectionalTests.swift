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
}
