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

    /// A table's feature names ride in the file (prediction reads the table by them); a list that
    /// does not name each input once is refused.
    @Test func featureNamesAreSavedAndChecked() throws {
        let model = Sequential { Dense(units: 2, activation: .softmax) }
        try model.build(inputShape: [3], seed: 1)
        model.featureNames = ["a", "b", "c"]
        let path = try Self.temporaryFile("features.safetensors")
        try model.save(to: path)
        #expect(try Sequential.load(from: path).featureNames == ["a", "b", "c"])
        for names in [["a", "b"], ["a", "a", "b"]] {
            var file = try model.safetensors()
            file.metadata["feature_names"] = try canonicalJSON(names)
            #expect { try Sequential.load(file, path: "m") } throws: { "\($0)".contains("feature_names in __metadata__") }
        }
    }

    /// `fit` records its loss, as Keras' compile does, and the file keeps it with its settings
    /// (so `nn evaluate` measures what training did, and a CTC model's blank is known); a loss
    /// the registry cannot read leaves the model usable and says why, an older file has none.
    @Test func theLossTrainedWithIsSavedWithItsSettings() throws {
        let model = Sequential { Dense(units: 2) }
        let inputs = FloatSamples(values: (0..<24).map { Float($0) / 24 }, sampleShape: [3])
        let data = try Dataset(inputs: inputs, values: FloatSamples(values: (0..<16).map { Float($0 % 3) }, sampleShape: [2]))
        #expect(model.loss == nil)
        _ = try model.fit(data, loss: Loss(Huber(delta: 0.5)), optimizer: SGD(), epochs: 1, batchSize: 4)
        let path = try Self.temporaryFile("huber.safetensors")
        try model.save(to: path)
        #expect(try Sequential.load(from: path).loss?.specText == "huber(delta=0.5)")
        var file = try model.safetensors()
        file.metadata["loss"] = #"{"type":"LogCosh"}"#
        let unread = try Sequential.load(file, path: "m")
        #expect(unread.loss == nil && unread.lossReadError?.contains("unreadable: unknown loss \"LogCosh\"") == true)
        file.metadata["loss"] = nil
        let older = try Sequential.load(file, path: "m")
        #expect(older.loss == nil && older.lossReadError == nil)
    }

    @Test func everyLayerTypeSavesAndLoadsWithItsConfiguration() throws {
        let model = Sequential {
            Reshape([4, -1])
            LSTM(units: 3, returnSequences: true)
            Flatten()
            GaussianNoise(stddev: 0.1)
            Dense(units: 5, activation: .gelu)
            Dropout(rate: 0.3)
            ActivationLayer(.swish)
            Dense(units: 2, activation: .softmax)
        }
        try model.build(inputShape: [8], seed: 2)
        let path = try Self.temporaryFile("every.safetensors")
        try model.save(to: path)
        let loaded = try Sequential.load(from: path)
        #expect(loaded.modelDescription == model.modelDescription)
        #expect(loaded.layers.map(\.typeName) == ["Reshape", "LSTM", "Flatten", "GaussianNoise", "Dense", "Dropout",
                                                   "Activation", "Dense"])
        #expect(loaded.summary() == model.summary())
        var generator = RandomGenerator(seed: 1)
        let x = randomTensor([3, 8], generator: &generator)
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

    @Test func staleTemporariesOfAKilledWriterAreRemoved() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stale = directory.appendingPathComponent(".last.safetensors.1234" + AtomicFile.temporarySuffix)
        try Data([1, 2, 3]).write(to: stale)
        try Data([4]).write(to: directory.appendingPathComponent("last.safetensors"))
        AtomicFile.removeStaleTemporaries(in: directory.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["last.safetensors"])
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

struct HostileModelFileTests {
    @Test func architectureLargerThanTheFileIsRejectedBeforeBuilding() throws {
        // A few bytes claiming an LSTM of a million units: rejected without allocating its weights.
        let architecture = #"{"input_shape":[28,28],"layers":[{"type":"LSTM","units":1000000}]}"#
        let file = Safetensors(tensors: ["w": Tensor(zeros: [4])], metadata: ["format": "neuralnetworks", "architecture": architecture])
        #expect {
            try Sequential(file, path: "m")
        } throws: { error in
            "\(error)".contains("more than the 1048576 allowed")
        }
        let absurd = #"{"input_shape":[28,9223372036854775807],"layers":[{"type":"Dense","units":16777215}]}"#
        let overflowing = Safetensors(tensors: [:], metadata: ["format": "neuralnetworks", "architecture": absurd])
        #expect(throws: SafetensorsError.self) { try Sequential(overflowing, path: "m") }
    }

    @Test func unknownLayerTypeIsOneErrorNamingIt() throws {
        let architecture = #"{"input_shape":[4],"layers":[{"type":"Quantum","units":3}]}"#
        let file = Safetensors(tensors: [:], metadata: ["format": "neuralnetworks", "architecture": architecture])
        #expect {
            try Sequential(file, path: "m")
        } throws: { error in
            "\(error)".contains("unknown layer type \"Quantum\"") && "\(error)".contains("m")
        }
    }

    @Test func oldBidirectionalListFormStillLoads() throws {
        let old = #"{"input_shape":[3,2],"layers":[{"type":"Bidirectional","units":4,"layer":[{"type":"LSTM","units":4,"recurrent_activation":"hard_sigmoid"}]},{"type":"Dense","units":2,"activation":"softmax"}]}"#
        let description = try JSONDecoder().decode(ModelDescription.self, from: Data(old.utf8))
        let model = Sequential(layers: try description.layers.map { try $0.makeLayer() })
        try model.build(inputShape: description.inputShape, seed: 0)
        #expect(model.parameters.map(\.name) == [
            "bidirectional.forward.kernel", "bidirectional.forward.recurrent_kernel", "bidirectional.forward.bias",
            "bidirectional.backward.kernel", "bidirectional.backward.recurrent_kernel", "bidirectional.backward.bias",
            "dense.kernel", "dense.bias"])
        #expect(((model.layers[0] as! Bidirectional).forwardLayer as! LSTM).recurrentActivation == .hardSigmoid)
    }
}
