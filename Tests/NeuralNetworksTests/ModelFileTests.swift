import Foundation
import Testing
@testable import NeuralNetworks

struct ModelFileTests {
    static func temporaryFile(_ name: String) throws -> String {
        try IDXBytes.temporaryDirectory().appendingPathComponent(name).path
    }

    @Test func savedModelLoadsWithSameArchitectureAndPredictions() throws {
        let model = Sequential {
            Bidirectional(LSTM(units: 6, recurrentActivation: .hardSigmoid))
            Dense(units: 4, activation: .softmax)
        }
        try model.build(inputShape: [5, 3], seed: 9)
        let path = try Self.temporaryFile("model.safetensors")
        try model.save(to: path)
        let loaded = try Sequential.load(from: path)
        #expect(loaded.modelDescription == model.modelDescription)
        #expect(loaded.parameters.map(\.name) == model.parameters.map(\.name))
        var generator = RandomGenerator(seed: 1)
        let x = randomTensor([3, 5, 3], generator: &generator)
        #expect(loaded.predict(x) == model.predict(x))
    }

    @Test func sameModelAlwaysWritesTheSameBytes() throws {
        let model = Sequential { Bidirectional(LSTM(units: 3, recurrentActivation: .hardSigmoid)); Dense(units: 2, activation: .softmax) }
        try model.build(inputShape: [4, 2], seed: 1)
        let encodings = try (0..<5).map { _ in try model.safetensors().encoded() }
        #expect(Set(encodings).count == 1)
    }

    @Test func tensorsAreNamedByParameter() throws {
        let model = Sequential { Bidirectional(LSTM(units: 2)); Dense(units: 3, activation: .softmax) }
        try model.build(inputShape: [4, 2], seed: 0)
        let file = try model.safetensors()
        #expect(Set(file.tensors.keys) == Set(model.parameters.map(\.name)))
        #expect(file.metadata["format"] == "neuralnetworks")
    }

    @Test func tensorOfTheWrongShapeIsRejected() throws {
        let model = Sequential { LSTM(units: 2); Dense(units: 3) }
        try model.build(inputShape: [4, 2], seed: 0)
        var file = try model.safetensors()
        file.tensors["dense.kernel"] = Tensor(zeros: [3, 3])
        #expect(throws: SafetensorsError.shapeMismatch(file: "m", tensor: "dense.kernel", expected: [2, 3], found: [3, 3])) {
            try Sequential(file, path: "m")
        }
        file.tensors["dense.kernel"] = nil
        #expect(throws: SafetensorsError.missingTensor(file: "m", tensor: "dense.kernel")) { try Sequential(file, path: "m") }
    }

    @Test func fileWithoutArchitectureIsRejected() throws {
        let path = try Self.temporaryFile("weights.safetensors")
        try Safetensors(tensors: ["w": Tensor(zeros: [2])]).write(to: path)
        #expect(throws: SafetensorsError.self) { try Sequential.load(from: path) }
    }

    @Test func savingReplacesTheFileWholeAndLeavesNoTemporaryFiles() throws {
        let path = try Self.temporaryFile("model.safetensors")
        let model = Sequential { Dense(units: 2) }
        try model.build(inputShape: [3], seed: 0)
        try model.save(to: path)
        try model.save(to: path)
        let directory = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
    }
}
