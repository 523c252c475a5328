import Foundation
import Testing
@testable import NeuralNetworks

/// `MultiHeadAttention` against PyTorch's `nn.MultiheadAttention` (padded and causal), by finite
/// differences, and in models on padded sequences.
struct MultiHeadAttentionTests {
    struct Case: Decodable {
        let output, upstream, input_gradient, kernel_gradient, bias_gradient, output_kernel_gradient, output_bias_gradient: FixtureTensor
    }
    struct Fixture: Decodable {
        let kernel, bias, output_kernel, output_bias, input: FixtureTensor
        let lengths: [Int]
        let padded, causal: Case
    }

    @Test(arguments: ["padded", "causal"])
    func matchesPyTorchForwardAndBackward(_ kind: String) throws {
        let f = try Fixtures.load("attention.json", as: Fixture.self)
        let layer = MultiHeadAttention(heads: 2, causal: kind == "causal")
        var generator = RandomGenerator(seed: 1)
        try layer.build(inputShape: [4, 6], generator: &generator)
        layer.kernel.tensor = f.kernel.tensor
        layer.bias?.tensor = f.bias.tensor
        layer.outputKernel.tensor = f.output_kernel.tensor
        layer.outputBias?.tensor = f.output_bias.tensor
        let expected = kind == "causal" ? f.causal : f.padded
        let context = ForwardContext(training: true, sequenceLengths: kind == "causal" ? nil : f.lengths)
        expectClose(layer.forward(f.input.tensor, context: context), expected.output.tensor, relative: 1e-5, absolute: 1e-5, "output")
        expectClose(layer.backward(expected.upstream.tensor), expected.input_gradient.tensor, relative: 1e-4, absolute: 1e-5, "input gradient")
        for (parameter, gradient) in [(layer.kernel, expected.kernel_gradient), (layer.bias, expected.bias_gradient),
                                      (layer.outputKernel, expected.output_kernel_gradient),
                                      (layer.outputBias, expected.output_bias_gradient)] {
            let parameter = try #require(parameter)
            expectClose(parameter.gradientTensor, gradient.tensor, relative: 1e-4, absolute: 1e-5, "\(parameter.name) gradient")
        }
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        var generator = RandomGenerator(seed: 3)
        // Heads that split the features, heads of another width without biases, causal with padding
        // and a sample of length 0 (no key to see: zero weights).
        let cases: [(MultiHeadAttention, [Int]?)] = [(MultiHeadAttention(heads: 2), nil),
                                                     (MultiHeadAttention(heads: 3, keyDim: 2, useBias: false), [3, 1, 2]),
                                                     (MultiHeadAttention(heads: 2, causal: true), [2, 0, 3])]
        for (layer, lengths) in cases {
            try layer.build(inputShape: [3, 4], generator: &generator)
            // Weights of about ±0.5: the softmax neither saturates nor leaves float32 differences too coarse.
            for parameter in layer.parameters {
                parameter.tensor = Tensor(shape: parameter.shape, scalars: randomTensor(parameter.shape, generator: &generator).scalars.map { $0 / 2 })
            }
            checkGradients(of: layer, input: randomTensor([3, 3, 4], generator: &generator), sequenceLengths: lengths)
        }
    }

    /// Dropout on the attention weights (Keras' and PyTorch's `dropout`): training draws a mask
    /// from the layer's stream (so finite differences see the same one), inference drops nothing,
    /// and the gradients follow the dropped weights.
    @Test func dropoutDropsAttentionWeightsWhileTraining() throws {
        var generator = RandomGenerator(seed: 11)
        let layer = MultiHeadAttention(heads: 2, causal: true, dropout: 0.4)
        try layer.build(inputShape: [3, 4], generator: &generator)
        for parameter in layer.parameters {
            parameter.tensor = Tensor(shape: parameter.shape, scalars: randomTensor(parameter.shape, generator: &generator).scalars.map { $0 / 2 })
        }
        let x = randomTensor([3, 3, 4], generator: &generator)
        let plain = MultiHeadAttention(heads: 2, causal: true)
        var again = RandomGenerator(seed: 1)
        try plain.build(inputShape: [3, 4], generator: &again)
        for (target, source) in zip(plain.parameters, layer.parameters) { target.tensor = source.tensor }
        #expect(layer.forward(x, training: false) == plain.forward(x, training: false))
        #expect(layer.forward(x, training: true) != plain.forward(x, training: true))
        checkGradients(of: layer, input: x, sequenceLengths: [3, 1, 2])
        let model = try ModelSpec.model("mha(2, dropout=0.1) flatten dense(2, softmax)")
        try model.build(inputShape: [3, 4], seed: 1)
        #expect(try PyTorchModule.sequential(model.layers).code.contains("SelfAttention(4, 2, dropout=0.1)"))
        #expect(throws: ModelSpecError.self) { try ModelSpec.model("mha(2, dropout=1)") }
    }

    /// With a causal mask, changing a later step changes no earlier output.
    @Test func aCausalStepSeesNoLaterStep() throws {
        var generator = RandomGenerator(seed: 4)
        let layer = MultiHeadAttention(heads: 2, causal: true)
        try layer.build(inputShape: [5, 4], generator: &generator)
        var x = randomTensor([1, 5, 4], generator: &generator)
        let before = layer.forward(x, training: false)
        for k in 12..<20 { x.scalars[k] += 3 }  // steps 3 and 4
        let after = layer.forward(x, training: false)
        #expect(before.scalars[..<12] == after.scalars[..<12])
        #expect(before.scalars[12...] != after.scalars[12...])
    }

    /// The pairs (sample, head) split over threads give the same values as one thread.
    @Test func threadsGiveTheSameValues() throws {
        var generator = RandomGenerator(seed: 5)
        let x = randomTensor([5, 6, 8], generator: &generator), upstream = randomTensor([5, 6, 8], generator: &generator)
        var results: [[Float]] = []
        for threads in [1, 2] {
            let layer = MultiHeadAttention(heads: 4)
            var build = RandomGenerator(seed: 6)
            try layer.build(inputShape: [6, 8], generator: &build)
            layer.threads = threads
            let y = layer.forward(x, context: ForwardContext(training: true, sequenceLengths: [6, 2, 5, 1, 3]))
            results.append(y.scalars + layer.backward(upstream).scalars + layer.kernel.gradientTensor.scalars)
        }
        #expect(results[0] == results[1])
    }

    /// Padding values, even ones whose products overflow, reach no real step forward or backward;
    /// inference (which keeps no weights) gives the training pass's outputs.
    @Test func paddingNeverReachesARealStep() throws {
        var generator = RandomGenerator(seed: 9)
        let layer = MultiHeadAttention(heads: 2)
        try layer.build(inputShape: [4, 4], generator: &generator)
        let x = randomTensor([2, 4, 4], generator: &generator)
        var upstream = randomTensor([2, 4, 4], generator: &generator)
        for k in 12..<16 { upstream.scalars[k] = 0 }  // the layers after give padding no gradient
        let lengths = [3, 4]
        func pass(padding: Float) -> [Float] {
            var padded = x
            for k in 12..<16 { padded.scalars[k] = padding }
            for parameter in layer.parameters { parameter.zeroGradient() }
            let inference = layer.forward(padded, context: ForwardContext(training: false, sequenceLengths: lengths))
            let y = layer.forward(padded, context: ForwardContext(training: true, sequenceLengths: lengths))
            #expect(inference == y)
            let dx = layer.backward(upstream)
            return y.scalars + Array(dx.scalars[..<12]) + Array(dx.scalars[16...]) + layer.kernel.gradientTensor.scalars
                + layer.outputKernel.gradientTensor.scalars
        }
        let zeros = pass(padding: 0), huge = pass(padding: 3e38)
        #expect(zeros == huge && zeros.allSatisfy(\.isFinite))
    }

    /// The memory figures of a hostile shape saturate (the memory check refuses it) instead of overflowing.
    @Test func aHostileShapeSaturatesItsMemoryFigure() throws {
        var generator = RandomGenerator(seed: 10)
        let layer = MultiHeadAttention(heads: 4096, keyDim: 1)
        try layer.build(inputShape: [200_000, 1], generator: &generator)
        #expect(layer.workspaceValues(inputShape: [200_000, 1], batchSize: 65_536) == .max)
        #expect(layer.forwardFLOPs(inputShape: [200_000, 1]) > 0)
    }

    @Test func refusesShapesItCannotTake() throws {
        var generator = RandomGenerator(seed: 7)
        #expect(throws: ShapeError.self) { try MultiHeadAttention(heads: 4).build(inputShape: [3, 6], generator: &generator) }
        #expect(throws: ShapeError.self) { try MultiHeadAttention(heads: 2).build(inputShape: [6], generator: &generator) }
        #expect(throws: ModelSpecError.self) { try ModelSpec.model("mha(0) flatten dense(2, softmax)") }
        let error = #expect(throws: ShapeError.self) { try ModelSpec.model("mha(4) flatten dense(2, softmax)").build(inputShape: [3, 6], seed: 1) }
        #expect(error?.description.contains("key_dim") == true)
        // key_dim is among the settings listed for a key the layer does not have.
        let unknown = #expect(throws: ModelSpecError.self) { try ModelSpec.model("mha(4, rate=0.1)") }
        #expect(unknown.map { "\($0)" }?.contains("key_dim") == true, "\(String(describing: unknown))")
        // PyTorch's heads are features ÷ heads wide: another key_dim cannot be exported.
        let model = try ModelSpec.model("mha(4, 2) flatten dense(2, softmax)")
        try model.build(inputShape: [3, 6], seed: 1)
        #expect(throws: ShapeError.self) { try PyTorchModule.sequential(model.layers) }
    }

    /// Ids through an embedding and self-attention, pooled over the real steps: whatever the
    /// padding holds changes nothing (no real step reads a padding key), and the model learns
    /// what a bag of embeddings cannot: whether 5 and 6 are both there, against two 5s or two 6s.
    @Test func aModelOnPaddedSequencesIgnoresThePaddingAndLearns() throws {
        var generator = RandomGenerator(seed: 8)
        var ids: [Float] = [], labels: [Int] = [], lengths: [Int] = []
        for _ in 0..<384 {
            let length = 3 + Int(generator.next() % 4)
            var sample = (0..<6).map { _ in Float(generator.next() % 5) }
            let kind = Int(generator.next() % 4)  // 0, 1: a 5 and a 6; 2: two 5s; 3: two 6s
            let first = Int(generator.next() % UInt64(length))
            let second = (first + 1 + Int(generator.next() % UInt64(length - 1))) % length
            sample[first] = kind == 3 ? 6 : 5
            sample[second] = kind == 2 ? 5 : 6
            ids += sample
            lengths.append(length)
            labels.append(kind < 2 ? 1 : 0)
        }
        func data(padding: Float) throws -> Dataset {
            let padded = ids.enumerated().map { $0 % 6 < lengths[$0 / 6] ? $1 : padding }
            return try Dataset(inputs: FloatSamples(values: padded, sampleShape: [6]), labels: labels, classCount: 2)
                .withSequenceLengths(lengths)
        }
        func run(padding: Float, spec: String = "embedding(7, 8) mha(2) globalaveragepooling1d dense(2, softmax)") throws
            -> (Sequential, [EpochReport]) {
            let model = try ModelSpec.model(spec)
            let set = try data(padding: padding)
            return (model, try model.fit(set, validation: set, optimizer: Adam(learningRate: 0.02), epochs: 25, batchSize: 16, seed: 2))
        }
        let (model, zeros) = try run(padding: 0), (_, sixes) = try run(padding: 6)
        #expect(zeros.map(\.trainLoss) == sixes.map(\.trainLoss))
        let (_, bag) = try run(padding: 0, spec: "embedding(7, 8) globalaveragepooling1d dense(2, softmax)")
        #expect(try #require(zeros.last?.testAccuracy) > 0.9, "\(zeros.map(\.testAccuracy))")
        #expect(bag.compactMap(\.testAccuracy).max()! < 0.8, "the bag of embeddings: \(bag.map(\.testAccuracy))")

        let path = try ModelFileTests.temporaryFile("attention.safetensors")
        try model.save(to: path)
        let x = try data(padding: 0).inputs.tensor([0, 1, 2])
        #expect(try Sequential.load(from: path).predict(x) == model.predict(x))
        let exported = try PyTorchModule.sequential(model.layers)
        #expect(exported.code.contains("SelfAttention(8, 2)") && exported.tensors.contains { $0.name == "1.in_proj_weight" })
    }
}
