import Testing
@testable import NeuralNetworks

struct SequentialTests {
    static func referenceModel() throws -> Sequential {
        let model = Sequential {
            Bidirectional(LSTM(units: 128, recurrentActivation: .hardSigmoid))
            Dense(units: 10, activation: .softmax)
        }
        try model.build(inputShape: [28, 28], seed: 0)
        return model
    }

    @Test func referenceModelHas163338Parameters() throws {
        #expect(try Self.referenceModel().parameterCount == 163_338)
    }

    @Test func summaryListsLayersShapesAndTotal() throws {
        let summary = try Self.referenceModel().summary()
        #expect(summary.contains("bidirectional (Bidirectional)"))
        #expect(summary.contains("(None, 256)"))
        #expect(summary.contains("160,768"))
        #expect(summary.contains("dense (Dense)"))
        #expect(summary.contains("(None, 10)"))
        #expect(summary.contains("Total params: 163,338"))
    }

    @Test func layersGetUniqueKerasStyleNames() {
        let model = Sequential { Dense(units: 2); Dense(units: 2); Bidirectional(LSTM(units: 1)) }
        #expect(model.layers.map(\.name) == ["dense", "dense_1", "bidirectional"])
    }

    @Test func sameSeedGivesSameInitialWeights() throws {
        let a = try Self.referenceModel(), b = try Self.referenceModel()
        #expect(a.parameters.map(\.tensor) == b.parameters.map(\.tensor))
    }

    @Test func threadsReachEveryRecurrentLayer() throws {
        let model = Sequential { LSTM(units: 2, returnSequences: true); Bidirectional(LSTM(units: 2)); Dense(units: 2) }
        #expect(model.threads == 1)
        model.threads = 6
        let bidirectional = try #require(model.layers[1] as? Bidirectional)
        #expect(model.threads == 6 && (model.layers[0] as? LSTM)?.threads == 6)
        #expect(bidirectional.threads == 6 && bidirectional.forwardLayer.threads == 3 && bidirectional.backwardLayer.threads == 3)
    }

    @Test func forwardFLOPsCountTheReferenceModel() throws {
        // 2 directions × 28 steps × 2 · (28 + 128) · 512, plus the dense layer.
        #expect(try Self.referenceModel().forwardFLOPsPerSample == 2 * 28 * 2 * 156 * 512 + 2 * 256 * 10)
    }
}

struct SequentialGradientTests {
    @Test func modelInputGradientIsSkippedUnlessAsked() throws {
        var generator = RandomGenerator(seed: 3)
        let model = Sequential { Bidirectional(LSTM(units: 3)); Dense(units: 2) }
        try model.build(inputShape: [4, 2], seed: 1)
        let x = randomTensor([2, 4, 2], generator: &generator)
        let upstream = randomTensor([2, 2], generator: &generator)
        _ = model.forward(x, training: true)
        #expect(model.backward(upstream).shape == [0])
        let skipped = model.parameters.map(\.gradientTensor)
        model.computesInputGradient = true
        for parameter in model.parameters { parameter.zeroGradient() }
        _ = model.forward(x, training: true)
        #expect(model.backward(upstream).shape == [2, 4, 2])
        // The parameter gradients do not depend on it.
        #expect(model.parameters.map(\.gradientTensor) == skipped)
    }
}
