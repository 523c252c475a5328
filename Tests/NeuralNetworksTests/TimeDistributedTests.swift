import Testing
@testable import NeuralNetworks

struct TimeDistributedTests {
    /// Each step through the inner layer alone, one step at a time, gives the same rows.
    @Test func everyStepGoesThroughTheSameLayer() throws {
        var generator = RandomGenerator(seed: 1)
        let inner = Dense(units: 3, activation: .tanh)
        let layer = TimeDistributed(inner)
        #expect(try layer.build(inputShape: [4, 5], generator: &generator) == [4, 3])
        let x = randomTensor([2, 4, 5], generator: &generator)
        let y = layer.forward(x, training: false)
        for b in 0..<2 {
            for t in 0..<4 {
                let step = Tensor(shape: [1, 5], scalars: Array(x.scalars[(b * 4 + t) * 5..<(b * 4 + t + 1) * 5]))
                let alone = inner.forward(step, training: false)
                for j in 0..<3 { #expect(y[b, t, j] == alone[0, j]) }
            }
        }
    }

    @Test func aLayerThatNeedsItsOwnAxesWorksPerStep() throws {
        var generator = RandomGenerator(seed: 2)
        let layer = TimeDistributed(Flatten())
        #expect(try layer.build(inputShape: [3, 2, 4], generator: &generator) == [3, 8])
        let x = randomTensor([2, 3, 2, 4], generator: &generator)
        #expect(layer.forward(x, training: false).scalars == x.scalars)
        #expect(throws: ShapeError.self) { try TimeDistributed(Dense(units: 2)).build(inputShape: [5], generator: &generator) }
    }

    @Test func specsNameTheInnerLayerWithOrWithoutParentheses() throws {
        #expect(try ModelSpec.layers("timedistributed(flatten)") == ModelSpec.layers("time_distributed(flatten())"))
        #expect(try ModelSpec.layers("bidirectional(bigru(2))").count == 1)
        // An activation's name stays a name where a layer is expected: the error says what was wrong.
        #expect(throws: ModelSpecError.self) { try ModelSpec.layers("timedistributed(relu)") }
    }

    @Test(arguments: [Activation.relu, .softmax])
    func gradientMatchesFiniteDifferences(activation: Activation) throws {
        var generator = RandomGenerator(seed: 3)
        let layer = TimeDistributed(Dense(units: 3, activation: activation))
        try layer.build(inputShape: [4, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 4, 2], generator: &generator))
    }

    /// A sequence labelled step by step: GRU over the steps, a softmax per step, cross-entropy
    /// averaged over every step (fused with the softmax), trained until it fits.
    @Test func aPerStepLossTrainsASequenceTagger() throws {
        let model = try ModelSpec.model("gru(8, return_sequences=true) timedistributed(dense(classes, softmax))", classes: 3)
        try model.build(inputShape: [5, 2], seed: 4)
        #expect(model.parameters.map(\.name).contains("time_distributed.layer.kernel"))
        var generator = RandomGenerator(seed: 5)
        let x = randomTensor([6, 5, 2], generator: &generator)
        // Each step's class: which of its two features is larger, or 2 when both are negative.
        var targets = Tensor(zeros: [6, 5, 3])
        for row in 0..<30 {
            let (a, b) = (x.scalars[2 * row], x.scalars[2 * row + 1])
            targets.scalars[row * 3 + (a < 0 && b < 0 ? 2 : a > b ? 0 : 1)] = 1
        }
        let fused = try #require(model.layers.last as? any OutputActivationLayer)
        #expect(fused.activation == .softmax)
        let optimizer = Adam(learningRate: 0.05)
        let before = try model.trainStep(x, targets: .dense(targets), loss: .categoricalCrossEntropy, optimizer: optimizer).loss
        for _ in 0..<60 { try model.trainStep(x, targets: .dense(targets), loss: .categoricalCrossEntropy, optimizer: optimizer) }
        let after = try model.trainStep(x, targets: .dense(targets), loss: .categoricalCrossEntropy, optimizer: optimizer).loss
        #expect(after < before / 3, "loss \(before) → \(after)")
        let path = try ModelFileTests.temporaryFile("tagger.safetensors")
        try model.save(to: path)
        #expect(try Sequential.load(from: path).predict(x) == model.predict(x))
    }
}
