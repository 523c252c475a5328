import Testing
@testable import NeuralNetworks

/// Padded sequences with per-sample lengths (`ForwardContext.sequenceLengths`, `StepOrder`):
/// padding steps change no state, output zeros and get no gradient, and a backward direction
/// starts at each sample's own last step, as PyTorch's packed sequences.
struct SequenceLengthsTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case rnn, gru, originalGRU, lstm
        var testDescription: String { rawValue }

        func make(returnSequences: Bool, goBackwards: Bool = false) -> any RecurrentLayer {
            switch self {
            case .rnn: SimpleRNN(units: 4, returnSequences: returnSequences, goBackwards: goBackwards)
            case .gru: GRU(units: 4, returnSequences: returnSequences, goBackwards: goBackwards,
                           biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.3))
            case .originalGRU: GRU(units: 4, returnSequences: returnSequences, goBackwards: goBackwards, resetAfter: false,
                                   biasInitializer: .randomNormal(mean: 0, standardDeviation: 0.3))
            case .lstm: LSTM(units: 4, returnSequences: returnSequences, goBackwards: goBackwards)
            }
        }
    }

    static let (batch, steps, features) = (3, 5, 3)
    static let lengths = [5, 1, 3]

    /// Sample `b`'s steps `range` as a batch of one.
    static func steps(_ x: Tensor, sample b: Int, _ range: Range<Int>) -> Tensor {
        let (t, width) = (x.shape[1], x.shape.dropFirst(2).reduce(1, *))
        let start = (b * t + range.lowerBound) * width
        return Tensor(shape: [1, range.count] + x.shape.dropFirst(2),
                      scalars: Array(x.scalars[start..<(start + range.count * width)]))
    }

    /// Sample `b` of a `[batch, …]` tensor as a batch of one.
    static func sample(_ x: Tensor, _ b: Int) -> Tensor {
        let width = x.count / x.shape[0]
        return Tensor(shape: [1] + x.shape.dropFirst(), scalars: Array(x.scalars[(b * width)..<((b + 1) * width)]))
    }

    /// Whether every value of sample `b`'s steps `range` is zero.
    static func isZero(_ x: Tensor, sample b: Int, _ range: Range<Int>) -> Bool {
        steps(x, sample: b, range).scalars.allSatisfy { $0 == 0 }
    }

    /// Runs `layer` on the padded batch and on each sample alone, cut to its length (the same
    /// weights): outputs, input gradients and summed parameter gradients must agree, and padding
    /// must hold zeros in outputs and input gradients. `positions(b)` are the output positions of
    /// sample b's real steps in a returned sequence.
    static func expectPaddingIsSkipped(_ layer: any Layer, returnSequences: Bool, positions: (Int) -> Range<Int>,
                                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        var generator = RandomGenerator(seed: 11)
        try layer.build(inputShape: [steps, features], generator: &generator)
        let x = randomTensor([batch, steps, features], generator: &generator)  // padding holds values too
        let padded = layer.forward(x, context: ForwardContext(training: true, sequenceLengths: lengths))
        let upstream = randomTensor(padded.shape, generator: &generator)
        for parameter in layer.allParameters { parameter.zeroGradient() }
        let inputGradient = layer.backward(upstream)
        let gradients = layer.allParameters.map(\.gradientTensor)

        var expectedGradients = gradients.map { Tensor(zeros: $0.shape) }
        for b in 0..<batch {
            let length = lengths[b]
            for parameter in layer.allParameters { parameter.zeroGradient() }
            let alone = layer.forward(steps(x, sample: b, 0..<length), training: true)
            let aloneUpstream = returnSequences ? steps(upstream, sample: b, positions(b)) : sample(upstream, b)
            let aloneInputGradient = layer.backward(aloneUpstream)
            for (k, parameter) in layer.allParameters.enumerated() {
                expectedGradients[k].scalars = zip(expectedGradients[k].scalars, parameter.gradientTensor.scalars).map(+)
            }
            if returnSequences {
                expectClose(steps(padded, sample: b, positions(b)), alone, "sample \(b) outputs", sourceLocation: sourceLocation)
                let others = (0..<steps).filter { !positions(b).contains($0) }
                #expect(others.allSatisfy { isZero(padded, sample: b, $0..<($0 + 1)) }, "sample \(b): padding outputs zeros",
                        sourceLocation: sourceLocation)
            } else {
                expectClose(sample(padded, b), alone, "sample \(b) last output", sourceLocation: sourceLocation)
            }
            expectClose(steps(inputGradient, sample: b, 0..<length), aloneInputGradient, relative: 1e-4, absolute: 1e-5,
                        "sample \(b) input gradient", sourceLocation: sourceLocation)
            #expect(isZero(inputGradient, sample: b, length..<steps), "sample \(b): no gradient into padding",
                    sourceLocation: sourceLocation)
        }
        for (k, parameter) in layer.allParameters.enumerated() {
            expectClose(gradients[k], expectedGradients[k], relative: 1e-4, absolute: 1e-5, "\(parameter.name) gradient",
                        sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Kind.allCases, [false, true])
    func paddedStepsOfOneDirectionChangeNothing(kind: Kind, returnSequences: Bool) throws {
        try Self.expectPaddingIsSkipped(kind.make(returnSequences: returnSequences), returnSequences: returnSequences,
                                        positions: { 0..<Self.lengths[$0] })
    }

    /// Going backwards, a sample's processing starts at its own last step; its returned sequence
    /// is in processing order after the (reversed) padding, as Keras' go_backwards with a mask.
    @Test(arguments: Kind.allCases, [false, true])
    func goingBackwardsStartsAtEachSamplesLastStep(kind: Kind, returnSequences: Bool) throws {
        try Self.expectPaddingIsSkipped(kind.make(returnSequences: returnSequences, goBackwards: true),
                                        returnSequences: returnSequences,
                                        positions: { (Self.steps - Self.lengths[$0])..<Self.steps })
    }

    @Test(arguments: Kind.allCases, [false, true])
    func bidirectionalRunsEachSampleAsIfCutToItsLength(kind: Kind, returnSequences: Bool) throws {
        let layer = Bidirectional(kind.make(returnSequences: returnSequences), threads: 1)
        try Self.expectPaddingIsSkipped(layer, returnSequences: returnSequences, positions: { 0..<Self.lengths[$0] })
    }

    @Test(arguments: Kind.allCases)
    func gradientsOnPaddedSequencesMatchFiniteDifferences(kind: Kind) throws {
        var generator = RandomGenerator(seed: 12)
        let layer = Bidirectional(kind.make(returnSequences: true), mergeMode: .concat, threads: 1)
        try layer.build(inputShape: [4, 2], generator: &generator)
        checkGradients(of: layer, input: randomTensor([2, 4, 2], scale: 0.5, generator: &generator), sequenceLengths: [2, 4])
    }

    @Test(arguments: [false, true], [false, true])
    func lstmInferencePassSkipsPaddingAsTrainingDoes(returnSequences: Bool, goBackwards: Bool) throws {
        var generator = RandomGenerator(seed: 13)
        let lstm = LSTM(units: 4, returnSequences: returnSequences, goBackwards: goBackwards)
        try lstm.build(inputShape: [Self.steps, Self.features], generator: &generator)
        let x = randomTensor([Self.batch, Self.steps, Self.features], generator: &generator)
        let training = lstm.forward(x, context: ForwardContext(training: true, sequenceLengths: Self.lengths))
        let inference = lstm.forward(x, context: ForwardContext(training: false, sequenceLengths: Self.lengths))
        expectClose(inference, training, "inference output")
    }

    @Test func lstmRowGroupsOnSeveralThreadsSkipPaddingAsOneThreadDoes() throws {
        func pass(threads: Int) throws -> [Tensor] {
            var generator = RandomGenerator(seed: 14)
            let lstm = LSTM(units: 4, returnSequences: true, goBackwards: true)
            lstm.threads = threads
            try lstm.build(inputShape: [Self.steps, Self.features], generator: &generator)
            let x = randomTensor([5, Self.steps, Self.features], generator: &generator)
            let context = ForwardContext(training: true, sequenceLengths: [2, 5, 1, 4, 3])
            let y = lstm.forward(x, context: context)
            let dx = lstm.backward(randomTensor(y.shape, generator: &generator))
            return [y, dx] + lstm.allParameters.map(\.gradientTensor)
        }
        for (a, b) in zip(try pass(threads: 3), try pass(threads: 1)) { expectClose(a, b, relative: 1e-5, "threads") }
    }

    // MARK: PyTorch's packed sequences

    struct Weights: Decodable {
        let kernel, recurrent_kernel, bias: FixtureTensor
        let recurrent_bias: FixtureTensor?
        var tensors: [Tensor] { [kernel, recurrent_kernel, bias, recurrent_bias].compactMap { $0?.tensor } }
    }
    struct Directions: Decodable { let forward, backward: Weights }
    struct Result: Decodable {
        let output, input_gradient: FixtureTensor
        let gradients: Directions
    }
    struct Case: Decodable {
        let weights: Directions
        let input, upstream, upstream_last: FixtureTensor
        let sequence, last: Result
    }
    struct CTCCase: Decodable {
        let lengths: [Int]
        let sequences: [[Int]]
        let logits, gradient: FixtureTensor
        let loss: Float
    }
    struct Fixture: Decodable {
        let lengths: [Int]
        let rnn, gru, lstm: Case
        let ctc: CTCCase
    }

    @Test(arguments: ["rnn", "gru", "lstm"], [false, true])
    func bidirectionalMatchesPyTorchPackedSequences(kind: String, returnSequences: Bool) throws {
        let fixture = try Fixtures.load("packed.json", as: Fixture.self)
        let f = kind == "rnn" ? fixture.rnn : kind == "gru" ? fixture.gru : fixture.lstm
        let inner: any RecurrentLayer = switch kind {
        case "rnn": SimpleRNN(units: 4, activation: .relu, returnSequences: returnSequences)
        case "gru": GRU(units: 4, returnSequences: returnSequences)
        default: LSTM(units: 4, returnSequences: returnSequences)
        }
        let layer = Bidirectional(inner)
        var generator = RandomGenerator(seed: 0)
        try layer.build(inputShape: [5, 3], generator: &generator)
        for (direction, weights) in [(layer.forwardLayer, f.weights.forward), (layer.backwardLayer, f.weights.backward)] {
            for (parameter, tensor) in zip(direction.parameters, weights.tensors) { parameter.tensor = tensor }
        }
        let expected = returnSequences ? f.sequence : f.last
        let output = layer.forward(f.input.tensor, context: ForwardContext(training: true, sequenceLengths: fixture.lengths))
        expectClose(output, expected.output.tensor, "output")
        expectClose(layer.backward(returnSequences ? f.upstream.tensor : f.upstream_last.tensor),
                    expected.input_gradient.tensor, relative: 1e-4, "input gradient")
        for (direction, weights) in [(layer.forwardLayer, expected.gradients.forward),
                                     (layer.backwardLayer, expected.gradients.backward)] {
            for (parameter, tensor) in zip(direction.parameters, weights.tensors) {
                expectClose(parameter.gradientTensor, tensor, relative: 1e-4, "\(direction.name) \(parameter.name) gradient")
            }
        }
    }

    @Test func ctcWithStepCountsMatchesPyTorchInputLengths() throws {
        let f = try Fixtures.load("packed.json", as: Fixture.self).ctc
        let (value, gradient) = Loss.ctc.valueAndGradient(logits: f.logits.tensor, targets: .sequences(f.sequences),
                                                          stepCounts: f.lengths)
        #expect(abs(value - f.loss) <= 1e-5 * max(1, abs(f.loss)), "loss \(value), PyTorch \(f.loss)")
        expectClose(gradient, f.gradient.tensor, relative: 1e-4, absolute: 1e-6, "gradient")
    }

    // MARK: Losses over real steps

    @Test func perStepLossCountsRealStepsOnly() {
        var generator = RandomGenerator(seed: 15)
        let logits = randomTensor([2, 3, 4], generator: &generator)
        let labels = [0, 1, 2, 3, 2, 1]
        let (value, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, targets: .classes(labels),
                                                                              stepCounts: [3, 1])
        // The real rows alone: sample 0's three steps, sample 1's first.
        let rows = Tensor(shape: [4, 4], scalars: Array(logits.scalars[0..<16]))
        let (expectedValue, expectedGradient) = Loss.categoricalCrossEntropy.valueAndGradient(
            logits: rows, targets: .classes([0, 1, 2, 3]))
        #expect(abs(value - expectedValue) < 1e-6)
        #expect(Array(gradient.scalars[0..<16]) == expectedGradient.scalars)
        #expect(gradient.scalars[16...].allSatisfy { $0 == 0 })
    }

    @Test func ctcDecodingReadsEachSamplesRealSteps() {
        // Two steps of class 0 then a step of class 1 (blank last, 3 outputs); sample 1 has 2 steps.
        let step0: [Float] = [0.9, 0.05, 0.05], step1: [Float] = [0.05, 0.9, 0.05]
        let outputs = Tensor(shape: [2, 3, 3], scalars: step0 + step0 + step1 + step0 + step0 + step1)
        #expect(CTCDecoder.greedy(outputs, blank: 2, stepCounts: [3, 2]) == [[0, 1], [0]])
        #expect(CTCDecoder.beamSearch(outputs, blank: 2, beamWidth: 4, stepCounts: [3, 2]) == [[0, 1], [0]])
    }

    // MARK: Data sets and training

    static func sequences(count: Int, padding: Float, seed: UInt64) -> (x: [Float], labels: [Int], lengths: [Int]) {
        var generator = RandomGenerator(seed: seed)
        var x: [Float] = [], labels: [Int] = [], lengths: [Int] = []
        for _ in 0..<count {
            let length = 1 + Int(generator.next() % 6)
            let label = Int(generator.next() % 2)
            for t in 0..<6 {
                x.append(t < length ? Float(generator.normal()) + (label == 1 ? 1 : -1) : padding)
            }
            (labels, lengths) = (labels + [label], lengths + [length])
        }
        return (x, labels, lengths)
    }

    static func dataset(padding: Float) throws -> Dataset {
        let (x, labels, lengths) = sequences(count: 96, padding: padding, seed: 16)
        return try Dataset(inputs: FloatSamples(values: x, sampleShape: [6, 1]), labels: labels, classCount: 2)
            .withSequenceLengths(lengths)
    }

    @Test func whatPaddingHoldsChangesNoTrainingRun() throws {
        func run(padding: Float) throws -> [EpochReport] {
            let model = try ModelSpec.model("gru(8) dense(2, softmax)")
            let data = try Self.dataset(padding: padding)
            return try model.fit(data, validation: data, optimizer: SGD(learningRate: 0.1), epochs: 2, batchSize: 32, seed: 3)
        }
        let zeros = try run(padding: 0), noise = try run(padding: 1e3)
        #expect(zeros.map(\.trainLoss) == noise.map(\.trainLoss))
        #expect(zeros.map(\.testLoss) == noise.map(\.testLoss))
    }

    @Test func datasetRefusesLengthsThatDoNotFit() throws {
        let inputs = FloatSamples(values: Array(repeating: 0, count: 12), sampleShape: [6, 1])
        let data = try Dataset(inputs: inputs, labels: [0, 1], classCount: 2)
        #expect(throws: DatasetError.badSequenceLength(file: "lengths.npy", index: 1, length: 7, steps: 6)) {
            try data.withSequenceLengths([6, 7], file: "lengths.npy")
        }
        #expect(throws: DatasetError.badSequenceLength(file: "lengths.npy", index: 0, length: 0, steps: 6)) {
            try data.withSequenceLengths([0, 6], file: "lengths.npy")
        }
        #expect(throws: DatasetError.lengthCountMismatch(file: "lengths.npy", lengthCount: 1, sampleCount: 2)) {
            try data.withSequenceLengths([3], file: "lengths.npy")
        }
        // Samples of ids [steps] take lengths (for an embedding first); a model reading the whole
        // axis at once does not.
        let ids = try Dataset(inputs: FloatSamples(values: Array(repeating: 0, count: 12), sampleShape: [6]), labels: [0, 1],
                              classCount: 2).withSequenceLengths([1, 2], file: "lengths.npy")
        #expect(ids.sequenceLengths == [1, 2])
        let dense = try ModelSpec.model("dense(4) dense(2, softmax)")
        #expect { try dense.fit(ids, optimizer: SGD(learningRate: 0.1), epochs: 1) } throws: {
            "\($0)".contains("need samples of [steps, features], or of ids [steps] through a first layer that makes each step a vector")
        }
        #expect(try ModelSpec.model("embedding(3, 2) gru(2) dense(2, softmax)")
            .fit(ids, optimizer: SGD(learningRate: 0.1), epochs: 1).count == 1)
    }

    /// Padding must never reach a real value: a layer that mixes steps or changes what a step is
    /// (a convolution, a reshape, batch statistics) before the recurrent layer that uses the lengths
    /// is refused by name, in training, evaluation and prediction alike (it crashed, or trained on
    /// padding). Step-by-step layers may come first, and after a recurrent layer's last state anything.
    @Test func layersThatMixStepsRefusePaddedSequences() throws {
        let data = try Self.dataset(padding: 0)  // samples [6, 1]
        let refused = ["conv1d(2, 3) gru(4) dense(2, softmax)": "conv1d (Conv1D)",
                       "reshape([3, 2]) gru(4) dense(2, softmax)": "reshape (Reshape)",
                       "flatten dense(2, softmax)": "flatten (Flatten)",
                       "batchnorm gru(4) dense(2, softmax)": "batch_normalization (BatchNormalization)",
                       "gru(4, seq) conv1d(2, 3) gru(4) dense(2, softmax)": "conv1d (Conv1D)",
                       "residual([conv1d(1, 3, padding=same)]) gru(4) dense(2, softmax)": "conv1d (Conv1D)"]
        for (spec, layer) in refused {
            let model = try ModelSpec.model(spec)
            let error = #expect(throws: ShapeError.self, "\(spec)") {
                try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 32)
            }
            #expect(error?.description.contains("cannot go through \(layer)") == true, "\(spec): \(String(describing: error))")
            #expect(throws: ShapeError.self) { try model.evaluate(data) }
            #expect(throws: ShapeError.self) { try model.predict(data.inputs, sequenceLengths: data.sequenceLengths) }
        }
        for spec in ["dense(3) dropout(0.1) activation(tanh) gru(4) dense(2, softmax)",
                     "timedistributed(dense(3)) residual([dense(3)]) bi(gru(4, seq)) lstm(4) dense(2, softmax)",
                     "concatenate([gru(4), lstm(3)]) dense(2, softmax)",
                     "bi(gru(4)) reshape([2, 4]) flatten dense(2, softmax)"] {
            let model = try ModelSpec.model(spec)
            let reports = try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 32)
            #expect(reports.count == 1 && reports[0].trainLoss.isFinite, "\(spec)")
        }
    }

    @Test func subsetsAndSplitsKeepEachSamplesLength() throws {
        let data = try Self.dataset(padding: 0)
        let lengths = data.sequenceLengths!
        #expect(data.subset([5, 2]).sequenceLengths == [lengths[5], lengths[2]])
        let (train, validation) = try data.split(validationFraction: 0.25, seed: 1)
        #expect(train.sequenceLengths!.count == train.count && validation.sequenceLengths!.count == validation.count)
        #expect(try data.fingerprint() != (try Dataset(inputs: data.inputs, labels: data.labels, classCount: 2).fingerprint()))
    }
}
