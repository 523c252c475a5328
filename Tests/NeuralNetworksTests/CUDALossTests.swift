import Foundation
import Testing
@testable import NeuralNetworks

/// Every loss with a device kernel (``CUDALoss``) trains a model as a whole on the GPU (the CUDA
/// simulator) as the CPU does: fused with the last layer's activation (from its logits) or on its
/// outputs, through any activation the last Dense layer has, on many outputs or one, on class
/// labels or dense targets (a row per sample, or per step of a sequence).
struct CUDALossTests {
    static let cases: [(String, Loss, Activation, Int)] = [
        ("binary cross-entropy on one sigmoid output (two classes)", .binaryCrossEntropy, .sigmoid, 2),
        ("binary cross-entropy on sigmoid outputs, one-hot", .binaryCrossEntropy, .sigmoid, 5),
        ("binary cross-entropy on softmax outputs", .binaryCrossEntropy, .softmax, 5),
        ("mean squared error on sigmoid outputs", .meanSquaredError, .sigmoid, 5),
        ("mean squared error on softmax outputs (its Jacobian)", .meanSquaredError, .softmax, 5),
        ("mean squared error on linear outputs", .meanSquaredError, .linear, 5),
        ("mean squared error on one tanh output", .meanSquaredError, .tanh, 2),
        ("categorical cross-entropy on sigmoid outputs (clipped)", .categoricalCrossEntropy, .sigmoid, 5),
        ("categorical cross-entropy with label smoothing, fused", Loss(CategoricalCrossEntropy(labelSmoothing: 0.1)), .softmax, 5),
        ("categorical cross-entropy with label smoothing on sigmoid outputs", Loss(CategoricalCrossEntropy(labelSmoothing: 0.2)), .sigmoid, 5),
        ("binary cross-entropy with label smoothing, fused", Loss(BinaryCrossEntropy(labelSmoothing: 0.2)), .sigmoid, 5),
        ("huber on linear outputs, a small delta", Loss(Huber(delta: 0.1)), .linear, 5),
        ("huber on tanh outputs", Loss(Huber()), .tanh, 5),
        ("mean absolute error on linear outputs", Loss(MeanAbsoluteError()), .linear, 5),
    ]

    @Test(arguments: 0..<14)
    func everyDeviceLossTrainsAsTheCPUDoes(case index: Int) throws {
        let (name, loss, activation, classes) = Self.cases[index]
        try CUDAModelTests.expectSameRun(name, {
            Sequential { Bidirectional(LSTM(units: 5)); Dense(units: classes == 2 ? 1 : classes, activation: activation) }
        }, optimizer: { SGD(learningRate: 0.5, momentum: 0.9) }, loss: loss, classes: classes)
    }

    /// Dense targets: the test images with targets of `shape` per sample, from `values` (sample,
    /// position in the sample) → value.
    static func denseData(_ shape: [Int], _ values: (Int, Int, Dataset) -> Float) throws -> Dataset {
        let images = try CUDAModelTests.data()
        let size = shape.reduce(1, *)
        let targets = (0..<(images.count * size)).map { values($0 / size, $0 % size, images) }
        return try Dataset(inputs: images.inputs, values: FloatSamples(values: targets, sampleShape: shape))
    }

    static func denseCases() -> [(String, () -> Sequential, Loss, [Int], (Int, Int, Dataset) -> Float)] { [
        ("regression of 3 values, linear outputs", { Sequential { Flatten(); Dense(units: 8, activation: .tanh); Dense(units: 3) } },
         .meanSquaredError, [3], { sample, j, data in Float(data.labels[sample] + j) / 5 }),
        ("multi-label 0/1 targets, sigmoid outputs", { Sequential { Bidirectional(LSTM(units: 5)); Dense(units: 4, activation: .sigmoid) } },
         .binaryCrossEntropy, [4], { sample, j, data in (data.labels[sample] + j) % 2 == 0 ? 1 : 0 }),
        ("soft labels, softmax outputs", { Sequential { LSTM(units: 6); Dense(units: 5, activation: .softmax) } },
         .categoricalCrossEntropy, [5], { sample, j, data in j == data.labels[sample] ? 0.8 : 0.05 }),
        ("a value per step, a Dense layer on the sequence", { Sequential { LSTM(units: 6, returnSequences: true); Dense(units: 2) } },
         .meanSquaredError, [6, 2], { sample, j, data in Float((data.labels[sample] * 7 + j) % 4) / 4 }),
        ("a class per step as one-hot rows, softmax on the sequence", {
            Sequential { GRU(units: 6, returnSequences: true); Dense(units: 3, activation: .softmax) }
        }, .categoricalCrossEntropy, [6, 3], { sample, j, data in j % 3 == (data.labels[sample] + j / 3) % 3 ? 1 : 0 }),
        ("a class per step, the last layer on every step (TimeDistributed)", {
            Sequential { LSTM(units: 6, returnSequences: true); TimeDistributed(Dense(units: 3, activation: .softmax)) }
        }, .categoricalCrossEntropy, [6, 3], { sample, j, data in j % 3 == (data.labels[sample] + j / 3) % 3 ? 1 : 0 }),
        ("binary targets per step, a sigmoid on every step", {
            Sequential { GRU(units: 6, returnSequences: true); TimeDistributed(Dense(units: 1, activation: .sigmoid)) }
        }, .binaryCrossEntropy, [6, 1], { sample, j, data in (data.labels[sample] + j) % 2 == 0 ? 1 : 0 }),
    ] }

    @Test(arguments: 0..<7)
    func denseTargetsTrainAsOnTheCPU(case index: Int) throws {
        let (name, makeModel, loss, shape, values) = Self.denseCases()[index]
        try CUDAModelTests.expectSameRun(name, makeModel, optimizer: { Adam(learningRate: 0.02) }, loss: loss,
                                         data: try Self.denseData(shape, values))
    }

    static func ctcCases() -> [(String, CTCLoss, Activation, Bool)] { [
        ("ctc from the logits of a softmax on every step", CTCLoss(), .softmax, false),
        ("ctc summed over the batch, the blank first", CTCLoss(blank: 0, reduction: .sumOverBatch), .softmax, false),
        ("ctc with a sequence no alignment fits, zero_infinity", CTCLoss(zeroInfinity: true), .softmax, true),
        ("ctc on sigmoid outputs (not fused)", CTCLoss(), .sigmoid, false),
    ] }

    /// CTC trains on the device as on the CPU: label sequences of 1–3 labels (one of 7, more than
    /// the 6 steps, where asked), packed per batch for the kernel.
    @Test(arguments: 0..<4)
    func ctcTrainsAsOnTheCPU(case index: Int) throws {
        let (name, loss, activation, tooLong) = Self.ctcCases()[index]
        let images = try CUDAModelTests.data()
        var sequences = images.labels.enumerated().map { sample, label in (0...(sample % 3)).map { (label + $0 * sample) % 5 } }
        if tooLong { sequences[5] = [1, 2, 3, 4, 0, 1, 2] }
        let data = try Dataset(inputs: images.inputs, sequences: sequences, classCount: 5)
        try CUDAModelTests.expectSameRun(name, {
            Sequential { Bidirectional(GRU(units: 5, returnSequences: true)); TimeDistributed(Dense(units: 6, activation: activation)) }
        }, optimizer: { Adam(learningRate: 0.01) }, loss: Loss(loss), data: data)
    }

    /// Softmax over one output is 1 whatever the label: categorical cross-entropy there is an
    /// error that says what to use, on any backend, before anything trains.
    @Test func categoricalCrossEntropyOnOneOutputIsAClearError() throws {
        let model = Sequential { Flatten(); Dense(units: 1, activation: .softmax) }
        try model.build(inputShape: [6, 5], seed: 1)
        let error = #expect(throws: ShapeError.self) {
            try model.fit(try CUDAModelTests.data(classes: 2), optimizer: SGD(), epochs: 1)
        }
        #expect(error?.description.contains("binary cross-entropy") == true)
    }
}
