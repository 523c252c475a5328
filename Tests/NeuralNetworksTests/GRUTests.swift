import Foundation
import Testing
@testable import NeuralNetworks

struct GRUTests {
    struct Weights: Decodable {
        let kernel, recurrent_kernel, bias: FixtureTensor
        let recurrent_bias: FixtureTensor?
    }

    struct Case: Decodable {
        let weights: Weights
        let input, output, upstream, input_gradient: FixtureTensor
        let gradients: Weights
    }

    struct Fixture: Decodable { let reset_after, original: Case }

    /// Both conventions against PyTorch: nn.GRU (reset after) and the original GRU written out in
    /// PyTorch (autograd), outputs and every gradient, on every product kernel this CPU runs.
    @Test(arguments: [true, false], CPUBackend.paths)
    func matchesPyTorch(resetAfter: Bool, kernel: String) throws {
        let fixture = try Fixtures.load("gru.json", as: Fixture.self)
        let f = resetAfter ? fixture.reset_after : fixture.original
        let gru = GRU(units: 4, returnSequences: true, resetAfter: resetAfter)
        var generator = RandomGenerator(seed: 0)
        _ = try gru.build(inputShape: [5, 3], generator: &generator)
        gru.kernel.tensor = f.weights.kernel.tensor
        gru.recurrentKernel.tensor = f.weights.recurrent_kernel.tensor
        gru.bias.tensor = f.weights.bias.tensor
        if let recurrentBias = f.weights.recurrent_bias { gru.recurrentBias!.tensor = recurrentBias.tensor }
        let context = ForwardContext(training: true, backend: CPUBackend.path(kernel))
        expectClose(gru.forward(f.input.tensor, context: context), f.output.tensor, "output")
        expectClose(gru.backward(f.upstream.tensor), f.input_gradient.tensor, "input gradient")
        expectClose(gru.kernel.gradientTensor, f.gradients.kernel.tensor, "kernel gradient")
        expectClose(gru.recurrentKernel.gradientTensor, f.gradients.recurrent_kernel.tensor, "recurrent gradient")
        expectClose(gru.bias.gradientTensor, f.gradients.bias.tensor, "bias gradient")
        if let recurrentBias = f.gradients.recurrent_bias {
            expectClose(gru.recurrentBias!.gradientTensor, recurrentBias.tensor, "recurrent bias gradient")
        }
    }

    /// One sample, one unit, both conventions, as the formulas in GRU's documentation read.
    @Test(arguments: [true, false])
    func forwardIsTheRecurrenceWrittenOut(resetAfter: Bool) throws {
        var generator = RandomGenerator(seed: 3)
        let gru = GRU(units: 1, returnSequences: true, resetAfter: resetAfter)
        try gru.build(inputShape: [3, 1], generator: &generator)
        gru.kernel.tensor = Tensor(shape: [1, 3], scalars: [0.5, -0.4, 0.9])        // W_z, W_r, W_h
        gru.recurrentKernel.tensor = Tensor(shape: [1, 3], scalars: [0.3, 0.7, -0.6]) // U_z, U_r, U_h
        gru.bias.tensor = Tensor(shape: [3], scalars: [0.1, -0.2, 0.05])
        gru.recurrentBias?.tensor = Tensor(shape: [3], scalars: [-0.3, 0.25, 0.15])
        let x: [Float] = [0.8, -1.1, 0.4]
        func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }
        let b2: [Float] = resetAfter ? [-0.3, 0.25, 0.15] : [0, 0, 0]
        var h: Float = 0, expected: [Float] = []
        for t in 0..<3 {
            let z = sigmoid(x[t] * 0.5 + h * 0.3 + 0.1 + b2[0])
            let r = sigmoid(x[t] * -0.4 + h * 0.7 - 0.2 + b2[1])
            let n = resetAfter ? tanh(x[t] * 0.9 + 0.05 + r * (h * -0.6 + b2[2])) : tanh(x[t] * 0.9 + (r * h) * -0.6 + 0.05)
            h = z * h + (1 - z) * n
            expected.append(h)
        }
        expectClose(gru.forward(Tensor(shape: [1, 3, 1], scalars: x), training: false),
                    Tensor(shape: [1, 3, 1], scalars: expected), "sequence")
    }

    @Test(arguments: [(true, false, false), (true, true, true), (false, false, true), (false, true, false)])
    func gradientMatchesFiniteDifferences(resetAfter: Bool, returnSequences: Bool, goBackwards: Bool) throws {
        var generator = RandomGenerator(seed: 11)
        let gru = GRU(units: 3, returnSequences: returnSequences, goBackwards: goBackwards, resetAfter: resetAfter,
                      biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.3))
        try gru.build(inputShape: [4, 2], generator: &generator)
        checkGradients(of: gru, input: randomTensor([2, 4, 2], generator: &generator))
    }

    /// Units that fill one vector and spill into a second (the vector passes' partial tail), and
    /// hard-sigmoid gates, kept inside their linear part by small weights.
    @Test(arguments: [true, false])
    func gradientOverAPartialVectorWithHardSigmoidGatesMatchesFiniteDifferences(resetAfter: Bool) throws {
        var generator = RandomGenerator(seed: 12)
        let gru = GRU(units: 10, recurrentActivation: .hardSigmoid, returnSequences: true, resetAfter: resetAfter,
                      kernelInitializer: .randomUniform(low: -0.2, high: 0.2),
                      recurrentInitializer: .randomUniform(low: -0.2, high: 0.2))
        try gru.build(inputShape: [3, 2], generator: &generator)
        checkGradients(of: gru, input: randomTensor([2, 3, 2], scale: 0.5, generator: &generator))
    }

    /// The vector passes split the batch's rows over threads from 16,384 values a step; the
    /// products split too. Results agree with one thread up to rounding.
    @Test(arguments: [true, false])
    func threadsGiveTheOneThreadResults(resetAfter: Bool) throws {
        func pass(threads: Int) throws -> [Tensor] {
            var generator = RandomGenerator(seed: 4)
            let gru = GRU(units: 128, returnSequences: true, resetAfter: resetAfter)
            try gru.build(inputShape: [3, 5], generator: &generator)
            gru.threads = threads
            let x = randomTensor([130, 3, 5], generator: &generator)
            let y = gru.forward(x, training: true)
            let dx = gru.backward(randomTensor(y.shape, generator: &generator))
            return [y, dx] + gru.parameters.map(\.gradientTensor)
        }
        for (a, b) in zip(try pass(threads: 1), try pass(threads: 2)) { expectClose(a, b, relative: 1e-4, absolute: 1e-5, "threads") }
    }

    @Test func goingBackwardsReadsTheReversedSequence() throws {
        try expectGoingBackwardsReadsTheReversedSequence(GRU(units: 3))
    }

    @Test func conventionsHaveTheirParametersAndConfigurationsRoundTrip() throws {
        var generator = RandomGenerator(seed: 1)
        let after = GRU(units: 4), original = GRU(units: 4, resetAfter: false)
        try after.build(inputShape: [2, 3], generator: &generator)
        try original.build(inputShape: [2, 3], generator: &generator)
        #expect(after.parameters.map(\.name) == ["kernel", "recurrent_kernel", "bias", "recurrent_bias"])
        #expect(original.parameters.map(\.name) == ["kernel", "recurrent_kernel", "bias"])
        let count = after.parameters.map(\.count).reduce(0, +), expectedCount = 3 * 4 * (3 + 4 + 2)
        #expect(count == expectedCount)
        let decoded = try GRU(configuration: original.configuration)
        #expect(decoded.configuration == original.configuration && !decoded.resetAfter)
        #expect(throws: ShapeError.self) { try GRU(configuration: .init(units: 4, activation: .gelu)) }
        #expect(throws: ShapeError.self) { try GRU(configuration: .init(units: 0)) }
    }

    @Test func bidirectionalTrainsSavesAndLoadsFromASpec() throws {
        #expect(try ModelSpec.layers("gru(4, return_sequences=true, reset_after=false)", classes: 3).count == 1)
        #expect(try ModelSpec.layers("gru(128, seq) bi(gru(64, seq), merge: sum)")
                 == ModelSpec.layers("gru(128, return_sequences=true) bidirectional(gru(64, return_sequences=true), sum)"))
        let model = try ModelSpec.model("gru(6, return_sequences=true) bigru(8) dense(classes, softmax)", classes: 3)
        try model.build(inputShape: [5, 4], seed: 2)
        var generator = RandomGenerator(seed: 9)
        let x = randomTensor([6, 5, 4], generator: &generator)
        let labels = [0, 1, 2, 0, 1, 2]
        let before = try model.trainStep(x, labels: labels, loss: .categoricalCrossEntropy, optimizer: SGD(learningRate: 0.5)).loss
        for _ in 0..<20 {
            try model.trainStep(x, labels: labels, loss: .categoricalCrossEntropy, optimizer: SGD(learningRate: 0.5))
        }
        let after = try model.trainStep(x, labels: labels, loss: .categoricalCrossEntropy, optimizer: SGD(learningRate: 0.5)).loss
        #expect(after < before / 2, "loss \(before) → \(after)")
        let path = try ModelFileTests.temporaryFile("gru.safetensors")
        try model.save(to: path)
        #expect(try Sequential.load(from: path).predict(x) == model.predict(x))
    }

    @Test func theOriginalConventionHasNoPyTorchModule() throws {
        let model = try ModelSpec.model("gru(4, reset_after=false) dense(classes)", classes: 3)
        try model.build(inputShape: [5, 4], seed: 2)
        #expect(throws: ShapeError.self) { try model.pyTorchExport() }
    }
}
