import Foundation
import Testing
@testable import NeuralNetworks

/// Every loss with a device kernel (``CUDALoss``) trains a model as a whole on the GPU (the CUDA
/// simulator) as the CPU does: fused with the last layer's activation (from its logits) or on its
/// outputs, through any activation the last Dense layer has, on many outputs or one.
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
    ]

    @Test(arguments: 0..<8)
    func everyDeviceLossTrainsAsTheCPUDoes(case index: Int) throws {
        let (name, loss, activation, classes) = Self.cases[index]
        try CUDAModelTests.expectSameRun(name, {
            Sequential { Bidirectional(LSTM(units: 5)); Dense(units: classes == 2 ? 1 : classes, activation: activation) }
        }, optimizer: { SGD(learningRate: 0.5, momentum: 0.9) }, loss: loss, classes: classes)
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
