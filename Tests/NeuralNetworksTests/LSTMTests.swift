import Testing
@testable import NeuralNetworks

struct LSTMTests {
    struct Weights: Decodable {
        let kernel, recurrent_kernel, bias: FixtureTensor
    }

    struct Fixture: Decodable {
        let weights: Weights
        let input, output, upstream, input_gradient: FixtureTensor
        let gradients: Weights
    }

    static func load(_ layer: LSTM, _ weights: Weights) {
        layer.kernel.tensor = weights.kernel.tensor
        layer.recurrentKernel.tensor = weights.recurrent_kernel.tensor
        layer.bias.tensor = weights.bias.tensor
    }

    static func expectGradients(_ layer: LSTM, _ expected: Weights, _ what: String) {
        expectClose(layer.kernel.gradientTensor, expected.kernel.tensor, "\(what) kernel gradient")
        expectClose(layer.recurrentKernel.gradientTensor, expected.recurrent_kernel.tensor, "\(what) recurrent gradient")
        expectClose(layer.bias.gradientTensor, expected.bias.tensor, "\(what) bias gradient")
    }

    @Test(arguments: [false, true], [false, true])
    func lstmGradientMatchesFiniteDifferences(goBackwards: Bool, returnSequences: Bool) throws {
        var generator = RandomGenerator(seed: 5)
        let lstm = LSTM(units: 3, returnSequences: returnSequences, goBackwards: goBackwards,
                        biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.2))
        _ = try lstm.build(inputShape: [4, 3], generator: &generator)
        checkGradients(of: lstm, input: randomTensor([2, 4, 3], generator: &generator))
    }

    @Test(arguments: [Activation.hardSigmoid, .tanh])
    func lstmGradientWithOtherGateActivationsMatchesFiniteDifferences(_ gate: Activation) throws {
        var generator = RandomGenerator(seed: 6)
        // Small weights keep pre-activations inside (−2.5, 2.5), away from the hard sigmoid's kinks.
        let lstm = LSTM(units: 3, recurrentActivation: gate, returnSequences: true,
                        kernelInitializer: .randomUniform(low: -0.3, high: 0.3),
                        recurrentInitializer: .randomUniform(low: -0.3, high: 0.3))
        _ = try lstm.build(inputShape: [4, 3], generator: &generator)
        checkGradients(of: lstm, input: randomTensor([2, 4, 3], scale: 0.5, generator: &generator))
    }

    /// On every product kernel this CPU runs (``PanelKernel``, and OpenBLAS alone).
    @Test(arguments: CPUBackend.paths)
    func lstmMatchesPyTorch(kernel: String) throws {
        let f = try Fixtures.load("lstm_sigmoid.json", as: Fixture.self)
        let lstm = LSTM(units: 4, recurrentActivation: .sigmoid, returnSequences: true)
        var generator = RandomGenerator(seed: 0)
        _ = try lstm.build(inputShape: [5, 3], generator: &generator)
        Self.load(lstm, f.weights)
        let context = ForwardContext(training: true, backend: CPUBackend.path(kernel))
        expectClose(lstm.forward(f.input.tensor, context: context), f.output.tensor, "output")
        expectClose(lstm.backward(f.upstream.tensor), f.input_gradient.tensor, "input gradient")
        Self.expectGradients(lstm, f.gradients, "lstm")
    }

    @Test func lastOutputIsTheLastStepOfTheSequence() throws {
        var generator = RandomGenerator(seed: 9)
        let sequence = LSTM(units: 5, returnSequences: true), last = LSTM(units: 5)
        _ = try sequence.build(inputShape: [6, 2], generator: &generator)
        _ = try last.build(inputShape: [6, 2], generator: &generator)
        for (a, b) in zip(sequence.parameters, last.parameters) { b.tensor = a.tensor }
        let x = randomTensor([3, 6, 2], generator: &generator)
        let all = sequence.forward(x, training: false), final = last.forward(x, training: false)
        for row in 0..<3 {
            for j in 0..<5 { #expect(final[row, j] == all[row, 5, j]) }
        }
    }

    /// Inference keeps only the running state and reads each step's rows from the batch; training
    /// keeps every step. Both must give the same outputs (over a tail of units that is not a
    /// whole vector, and for pairs with and without a loop of their own).
    @Test(arguments: [(false, false, Activation.hardSigmoid), (true, true, .sigmoid), (false, true, .relu)])
    func inferencePassMatchesTrainingPass(goBackwards: Bool, returnSequences: Bool, gate: Activation) throws {
        var generator = RandomGenerator(seed: 12)
        let lstm = LSTM(units: 13, recurrentActivation: gate, returnSequences: returnSequences, goBackwards: goBackwards,
                        biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.2))
        _ = try lstm.build(inputShape: [5, 6], generator: &generator)
        let x = randomTensor([7, 5, 6], generator: &generator)
        expectClose(lstm.forward(x, training: false), lstm.forward(x, training: true), "inference output")
    }

    /// Output, input gradient and parameter gradients of one forward and backward pass on `threads`.
    static func pass(threads: Int, batch: Int, returnSequences: Bool, goBackwards: Bool) throws -> [Tensor] {
        var generator = RandomGenerator(seed: 21)
        let lstm = LSTM(units: 11, returnSequences: returnSequences, goBackwards: goBackwards,
                        biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.2))
        _ = try lstm.build(inputShape: [6, 5], generator: &generator)
        lstm.threads = threads
        let x = randomTensor([batch, 6, 5], generator: &generator)
        let inference = lstm.forward(x, training: false)
        let y = lstm.forward(x, training: true)
        let dx = lstm.backward(randomTensor(y.shape, generator: &generator))
        return [inference, y, dx] + lstm.allParameters.map(\.gradientTensor)
    }

    @Test(arguments: [(2, 7, false, false), (3, 7, true, true), (5, 7, false, true), (4, 2, true, false)])
    func rowGroupsOnSeveralThreadsMatchOneThread(threads: Int, batch: Int, returnSequences: Bool, goBackwards: Bool) throws {
        let one = try Self.pass(threads: 1, batch: batch, returnSequences: returnSequences, goBackwards: goBackwards)
        let several = try Self.pass(threads: threads, batch: batch, returnSequences: returnSequences, goBackwards: goBackwards)
        for (name, (a, b)) in zip(["inference output", "output", "input gradient", "kernel gradient",
                                   "recurrent kernel gradient", "bias gradient"], zip(several, one)) {
            expectClose(a, b, name)
        }
    }

    @Test func aThreadCountGivesBitIdenticalRunsEveryTime() throws {
        let first = try Self.pass(threads: 3, batch: 9, returnSequences: true, goBackwards: false)
        let second = try Self.pass(threads: 3, batch: 9, returnSequences: true, goBackwards: false)
        #expect(first.map(\.scalars) == second.map(\.scalars))
    }

    @Test func lstmGradientOnThreeThreadsMatchesFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 6)
        let lstm = LSTM(units: 3, returnSequences: true, biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.2))
        _ = try lstm.build(inputShape: [4, 2], generator: &generator)
        lstm.threads = 3
        checkGradients(of: lstm, input: randomTensor([5, 4, 2], generator: &generator))
    }

    @Test func unitForgetBiasSetsOnlyTheForgetGate() throws {
        var generator = RandomGenerator(seed: 1)
        let lstm = LSTM(units: 3)
        _ = try lstm.build(inputShape: [2, 2], generator: &generator)
        #expect(lstm.bias.tensor.scalars == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    }

    @Test func lstmRejectsInputsThatAreNotSequences() {
        var generator = RandomGenerator(seed: 0)
        #expect(throws: ShapeError.self) { try LSTM(units: 2).build(inputShape: [28], generator: &generator) }
    }
}
