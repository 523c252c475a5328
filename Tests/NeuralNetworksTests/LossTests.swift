import Foundation
import Testing
@testable import NeuralNetworks

struct LossTests {
    struct Fixture: Decodable {
        let logits, logits_gradient: FixtureTensor
        let labels: [Int]
        let loss: Float
    }

    @Test func softmaxCrossEntropyMatchesPyTorch() throws {
        let f = try Fixtures.load("dense.json", as: Fixture.self)
        let (value, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(logits: f.logits.tensor, labels: f.labels)
        #expect(value.isApproximatelyEqual(to: f.loss, relativeTolerance: 1e-5))
        expectClose(gradient, f.logits_gradient.tensor, "logits gradient")
    }

    @Test func softmaxCrossEntropyGradientMatchesFiniteDifferences() {
        var generator = RandomGenerator(seed: 2)
        let logits = randomTensor([4, 5], scale: 2, generator: &generator)
        let labels = [0, 4, 2, 2]
        let (_, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, labels: labels)
        let epsilon: Float = 1e-3
        for k in 0..<logits.count {
            var plus = logits, minus = logits
            plus.scalars[k] += epsilon
            minus.scalars[k] -= epsilon
            let numeric = (Loss.categoricalCrossEntropy.valueAndGradient(logits: plus, labels: labels).value
                - Loss.categoricalCrossEntropy.valueAndGradient(logits: minus, labels: labels).value) / (2 * epsilon)
            #expect(abs(numeric - gradient.scalars[k]) < 2e-3, "logit \(k)")
        }
    }

    @Test func crossEntropyOnProbabilitiesGradientMatchesFiniteDifferences() {
        let p = Tensor(shape: [2, 3], scalars: [0.2, 0.5, 0.3, 0.6, 0.1, 0.3])
        let labels = [1, 2]
        let (value, gradient) = Loss.categoricalCrossEntropy.valueAndGradient(predictions: p, labels: labels)
        #expect(value.isApproximatelyEqual(to: -(logf(0.5) + logf(0.3)) / 2, relativeTolerance: 1e-6))
        let epsilon: Float = 1e-3
        for k in 0..<p.count {
            var plus = p, minus = p
            plus.scalars[k] += epsilon
            minus.scalars[k] -= epsilon
            let numeric = (Loss.categoricalCrossEntropy.valueAndGradient(predictions: plus, labels: labels).value
                - Loss.categoricalCrossEntropy.valueAndGradient(predictions: minus, labels: labels).value) / (2 * epsilon)
            #expect(abs(numeric - gradient.scalars[k]) < 2e-3, "probability \(k)")
        }
    }

    @Test func fusedAndUnfusedLossesAgree() {
        var generator = RandomGenerator(seed: 12)
        let logits = randomTensor([3, 4], generator: &generator)
        var probabilities = logits
        logits.scalars.withUnsafeBufferPointer { z in
            probabilities.scalars.withUnsafeMutableBufferPointer { p in
                Softmax.forward(z.baseAddress!, p.baseAddress!, rows: 3, width: 4)
            }
        }
        let fused = Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, labels: [3, 0, 1]).value
        let plain = Loss.categoricalCrossEntropy.valueAndGradient(predictions: probabilities, labels: [3, 0, 1]).value
        #expect(fused.isApproximatelyEqual(to: plain, relativeTolerance: 1e-5))
    }

    struct LossCase: Decodable {
        let logits, predictions: FixtureTensor?
        let labels: [Int]?
        let targets: FixtureTensor?
        let loss: Float
        let gradient: FixtureTensor
    }
    struct LossFixtures: Decodable { let cases: [String: LossCase] }

    @Test(arguments: [("cross_entropy_classes", Loss.categoricalCrossEntropy), ("cross_entropy_soft", .categoricalCrossEntropy),
                      ("binary_cross_entropy_logits", .binaryCrossEntropy), ("binary_cross_entropy", .binaryCrossEntropy),
                      ("mean_squared_error", .meanSquaredError)])
    func lossMatchesPyTorch(_ name: String, _ loss: Loss) throws {
        let f = try #require(try Fixtures.load("losses.json", as: LossFixtures.self).cases[name])
        let targets: Targets = f.labels.map { .classes($0) } ?? .dense(f.targets!.tensor)
        let (value, gradient) = f.logits.map { loss.valueAndGradient(logits: $0.tensor, targets: targets) }
            ?? loss.valueAndGradient(predictions: f.predictions!.tensor, targets: targets)
        #expect(value.isApproximatelyEqual(to: f.loss, relativeTolerance: 1e-5), "\(name): \(value) vs \(f.loss)")
        expectClose(gradient, f.gradient.tensor, relative: 1e-4, absolute: 1e-6, "\(name) gradient")
    }

    struct SpecCase: Decodable {
        let spec: String
        let logits, predictions: FixtureTensor?
        let labels: [Int]?
        let targets: FixtureTensor?
        let loss: Float
        let gradient: FixtureTensor
    }
    struct SpecFixtures: Decodable { let cases: [String: SpecCase] }

    /// Losses with settings, each made from its spec: label smoothing (cross-entropy on labels and
    /// soft targets, binary cross-entropy from logits and probabilities), Huber, mean absolute error.
    @Test(arguments: ["cross_entropy_smoothing_classes", "cross_entropy_smoothing_soft", "binary_cross_entropy_smoothing_logits",
                      "binary_cross_entropy_smoothing", "huber", "huber_delta", "mean_absolute_error"])
    func lossWithSettingsMatchesPyTorch(_ name: String) throws {
        let f = try #require(try Fixtures.load("loss_settings.json", as: SpecFixtures.self).cases[name])
        let loss = try Loss(spec: f.spec)
        let targets: Targets = f.labels.map { .classes($0) } ?? .dense(f.targets!.tensor)
        let (value, gradient) = f.logits.map { loss.valueAndGradient(logits: $0.tensor, targets: targets) }
            ?? loss.valueAndGradient(predictions: f.predictions!.tensor, targets: targets)
        #expect(value.isApproximatelyEqual(to: f.loss, relativeTolerance: 1e-5), "\(name): \(value) vs \(f.loss)")
        expectClose(gradient, f.gradient.tensor, relative: 1e-4, absolute: 1e-6, "\(name) gradient")
    }

    /// Central differences of the loss value against its analytic gradient, for either entry point.
    static func checkGradient(_ loss: Loss, _ input: Tensor, _ targets: Targets, logits: Bool,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        func evaluate(_ x: Tensor) -> (value: Float, gradient: Tensor) {
            logits ? loss.valueAndGradient(logits: x, targets: targets) : loss.valueAndGradient(predictions: x, targets: targets)
        }
        let gradient = evaluate(input).gradient
        let epsilon: Float = 1e-3
        for k in 0..<input.count {
            var plus = input, minus = input
            plus.scalars[k] += epsilon
            minus.scalars[k] -= epsilon
            let numeric = (evaluate(plus).value - evaluate(minus).value) / (2 * epsilon)
            #expect(abs(numeric - gradient.scalars[k]) < 2e-3, "\(loss.typeName) input \(k): analytic \(gradient.scalars[k]), numeric \(numeric)",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func everyLossGradientMatchesFiniteDifferences() {
        var generator = RandomGenerator(seed: 21)
        let logits = randomTensor([3, 4], scale: 2, generator: &generator)
        let probabilities = Tensor(shape: [3, 4], scalars: (0..<12).map { Float(0.1 + 0.06 * Double($0)) })
        let soft = Tensor(shape: [3, 4], scalars: [0.1, 0.2, 0.3, 0.4, 1, 0, 0, 0, 0, 0.5, 0.5, 0])
        let multi = Tensor(shape: [3, 4], scalars: [1, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1])
        Self.checkGradient(.categoricalCrossEntropy, logits, .dense(soft), logits: true)
        Self.checkGradient(.categoricalCrossEntropy, probabilities, .dense(soft), logits: false)
        Self.checkGradient(.binaryCrossEntropy, logits, .dense(multi), logits: true)
        Self.checkGradient(.binaryCrossEntropy, probabilities, .dense(multi), logits: false)
        Self.checkGradient(.binaryCrossEntropy, logits, .classes([2, 0, 3]), logits: true)
        Self.checkGradient(.meanSquaredError, logits, .dense(soft), logits: false)
        Self.checkGradient(.meanSquaredError, probabilities, .classes([1, 1, 3]), logits: false)
        let smoothing = Loss(CategoricalCrossEntropy(labelSmoothing: 0.2)), binary = Loss(BinaryCrossEntropy(labelSmoothing: 0.3))
        Self.checkGradient(smoothing, logits, .classes([2, 0, 3]), logits: true)
        Self.checkGradient(smoothing, logits, .dense(soft), logits: true)
        Self.checkGradient(smoothing, probabilities, .classes([2, 0, 3]), logits: false)
        Self.checkGradient(binary, logits, .dense(multi), logits: true)
        Self.checkGradient(binary, probabilities, .classes([2, 0, 3]), logits: false)
        // Differences of 0.1 to 2.6 (none within 1e-3 of ±δ or of 0, where the gradient has a kink).
        let spread = Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0 % 2 == 0 ? 1 : -1) * Float(0.1 + 0.23 * Double($0)) })
        Self.checkGradient(Loss(Huber()), spread, .dense(Tensor(zeros: [3, 4])), logits: false)
        Self.checkGradient(Loss(Huber(delta: 0.75)), spread, .dense(Tensor(zeros: [3, 4])), logits: false)
        Self.checkGradient(Loss(MeanAbsoluteError()), spread, .classes([1, 1, 3]), logits: false)
    }

    /// Label smoothing by ε moves each target towards the uniform 1/K (cross-entropy) or 1/2
    /// (binary): 0 is the plain loss, and with ε = 1 every row's gradient is that of uniform targets.
    @Test func labelSmoothingTrainsOnTargetsMovedTowardsUniform() {
        var generator = RandomGenerator(seed: 5)
        let logits = randomTensor([3, 4], scale: 2, generator: &generator)
        let labels = [2, 0, 3]
        #expect(Loss(CategoricalCrossEntropy(labelSmoothing: 0)).valueAndGradient(logits: logits, labels: labels).value
                == Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, labels: labels).value)
        let uniform = Loss.categoricalCrossEntropy.valueAndGradient(logits: logits, targets: .dense(Tensor(repeating: 0.25, shape: [3, 4])))
        let full = Loss(CategoricalCrossEntropy(labelSmoothing: 1)).valueAndGradient(logits: logits, labels: labels)
        #expect(full.value.isApproximatelyEqual(to: uniform.value, relativeTolerance: 1e-6))
        expectClose(full.gradient, uniform.gradient, relative: 1e-6, absolute: 1e-7, "uniform")
        let half = Loss.binaryCrossEntropy.valueAndGradient(logits: logits, targets: .dense(Tensor(repeating: 0.5, shape: [3, 4])))
        let binary = Loss(BinaryCrossEntropy(labelSmoothing: 1)).valueAndGradient(logits: logits, labels: labels)
        #expect(binary.value.isApproximatelyEqual(to: half.value, relativeTolerance: 1e-6))
    }

    /// Before any pass: a CTC blank beyond the model's outputs, and binary cross-entropy on
    /// targets outside [0, 1] (its loss would fall without end), are errors naming what is wrong.
    @Test func lossesRefuseWhatTheyCannotTrain() throws {
        let ctcModel = try ModelSpec.model("timedistributed(dense(4, softmax))")
        try ctcModel.build(inputShape: [6, 3], seed: 1)
        let sequences = try Dataset(inputs: FloatSamples(values: [Float](repeating: 0, count: 36), sampleShape: [6, 3]),
                                    sequences: [[0, 1], [2]], classCount: 3)
        #expect(throws: ShapeError("ctc: the blank 4 is outside the model's 4 outputs per step (0...3)")) {
            try ctcModel.requireOutputs(fitting: sequences, loss: Loss(CTCLoss(blank: 4)))
        }
        try ctcModel.requireOutputs(fitting: sequences, loss: Loss(CTCLoss(blank: 0)))
        let model = try ModelSpec.model("dense(1, sigmoid)")
        try model.build(inputShape: [2], seed: 1)
        func values(_ targets: [Float]) throws -> Dataset {
            try Dataset(inputs: FloatSamples(values: [Float](repeating: 1, count: 2 * targets.count), sampleShape: [2]),
                        values: FloatSamples(values: targets, sampleShape: [1]))
        }
        try model.requireOutputs(fitting: try values([0, 1, 0.25]), loss: .binaryCrossEntropy)
        #expect(throws: ShapeError.self) { try model.requireOutputs(fitting: try values([0, 1, 3]), loss: .binaryCrossEntropy) }
        #expect(throws: ShapeError.self) { try model.requireOutputs(fitting: try values([.nan]), loss: .binaryCrossEntropy) }
        try model.requireOutputs(fitting: try values([0, 1, 3]), loss: .meanSquaredError)
    }

    /// Beyond δ the Huber loss grows linearly (an outlier's gradient is at most δ/count), within
    /// it as half the squared error; MAE's gradient is ±1/count and 0 at the target.
    @Test func huberIsQuadraticWithinDeltaAndLinearBeyond() {
        let targets = Targets.dense(Tensor(zeros: [1, 4]))
        let (value, gradient) = Loss(Huber(delta: 2)).valueAndGradient(predictions: Tensor(shape: [1, 4], scalars: [1, -2, 10, -30]), targets: targets)
        let expected: Float = (0.5 + 2 + 2 * 9 + 2 * 29) / 4  // x²/2 within δ = 2, δ (|x| − δ/2) beyond
        #expect(value == expected)
        #expect(gradient.scalars == [0.25, -0.5, 0.5, -0.5])
        let mae = Loss(MeanAbsoluteError()).valueAndGradient(predictions: Tensor(shape: [1, 4], scalars: [1, 0, -3, 0.5]), targets: targets)
        #expect(mae.value == 4.5 / 4 && mae.gradient.scalars == [0.25, 0, -0.25, 0.25])
    }

    @Test func binaryCrossEntropyIsStableForHugeLogits() {
        let logits = Tensor(shape: [2, 1], scalars: [500, -500])
        let (value, gradient) = Loss.binaryCrossEntropy.valueAndGradient(logits: logits, targets: .classes([0, 1]))
        #expect(value.isApproximatelyEqual(to: 500, relativeTolerance: 1e-6))
        #expect(gradient.scalars == [0.5, -0.5])
    }

    @Test func classLabelsBecomeOneHotOrTheClassItselfForOneOutput() {
        let wide = Targets.classes([2, 0]).dense(like: Tensor(zeros: [2, 3]))
        #expect(wide.scalars == [0, 0, 1, 1, 0, 0])
        #expect(Targets.classes([1, 0]).dense(like: Tensor(zeros: [2, 1])).scalars == [1, 0])
    }

    /// Every loss reads from its type name alone (its defaults, as files and checkpoints from
    /// before its settings hold it), and its settings survive a round trip through JSON.
    @Test func lossesRoundTripThroughTheirTypeNamesAndSettings() throws {
        for type in ModuleRegistry.standard.lossTypes {
            let loss = try JSONDecoder().decode(Loss.self, from: Data(#"{"type":"\#(type)"}"#.utf8))
            #expect(loss.typeName == type && loss.specText == type)
        }
        for loss in [Loss(CategoricalCrossEntropy(labelSmoothing: 0.1)), Loss(BinaryCrossEntropy(labelSmoothing: 0.5)), Loss(Huber(delta: 3))] {
            let json = try canonicalJSON(loss)
            #expect(try canonicalJSON(JSONDecoder().decode(Loss.self, from: Data(json.utf8))) == json)
        }
        #expect(Loss(Huber(delta: 3)).specText == "huber(delta=3)")
        #expect(Loss(CategoricalCrossEntropy(labelSmoothing: 0.1)).specText == "categorical_crossentropy(label_smoothing=0.1)")
        #expect(throws: ShapeError.self) { try JSONDecoder().decode(Loss.self, from: Data(#"{"type":"hinge"}"#.utf8)) }
        #expect(throws: ShapeError.self) {
            try JSONDecoder().decode(Loss.self, from: Data(#"{"type":"categorical_crossentropy","label_smoothing":1.5}"#.utf8))
        }
    }
}
