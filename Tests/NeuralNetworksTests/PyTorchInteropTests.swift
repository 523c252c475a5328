import Foundation
import Testing
@testable import NeuralNetworks

struct PyTorchInteropTests {
    struct Fixture: Decodable { let input, probabilities: FixtureTensor }

    static let stateDict = Fixtures.directory.appendingPathComponent("torch_classifier.safetensors").path

    @Test func pyTorchStateDictGivesPyTorchsPredictions() throws {
        let f = try Fixtures.load("torch_classifier.json", as: Fixture.self)
        // Without an input shape in the file, images are taken as square: [features, features].
        #expect(try Sequential.load(from: Self.stateDict).inputShape == [3, 3])
        let shaped = try Sequential(pyTorch: Safetensors(path: Self.stateDict), file: Self.stateDict, inputShape: [5, 3])
        expectClose(shaped.predict(f.input.tensor), f.probabilities.tensor, "probabilities")
    }

    @Test func exportedModelHasPyTorchNamesAndReloadsToTheSamePredictions() throws {
        let f = try Fixtures.load("torch_classifier.json", as: Fixture.self)
        let original = try Safetensors(path: Self.stateDict)
        let model = try Sequential(pyTorch: original, file: Self.stateDict, inputShape: [5, 3])
        let exported = try model.pyTorchSafetensors()
        #expect(Set(exported.tensors.keys) == Set(original.tensors.keys))
        for (name, tensor) in original.tensors { #expect(exported.tensors[name]!.shape == tensor.shape, "\(name)") }
        let path = try ModelFileTests.temporaryFile("exported.safetensors")
        try exported.write(to: path)
        let reloaded = try Sequential.load(from: path)
        #expect(reloaded.inputShape == [5, 3])
        expectClose(reloaded.predict(f.input.tensor), f.probabilities.tensor, "probabilities after export")
    }

    @Test func stateDictWithAMismatchedTensorIsRejected() throws {
        var file = try Safetensors(path: Self.stateDict)
        file.tensors["lstm.bias_hh_l0_reverse"] = Tensor(zeros: [5])
        #expect(throws: SafetensorsError.shapeMismatch(file: "t", tensor: "lstm.bias_hh_l0_reverse", expected: [16], found: [5])) {
            try Sequential(pyTorch: file, file: "t", inputShape: [5, 3])
        }
    }
}

struct PyTorchExportTests {
    static let ours = Fixtures.directory.appendingPathComponent("ours_model.safetensors").path

    @Test func ourModelPredictsWhatPyTorchPredictsWithItsWeights() throws {
        let f = try Fixtures.load("ours_model.json", as: PyTorchInteropTests.Fixture.self)
        expectClose(try Sequential.load(from: Self.ours).predict(f.input.tensor), f.probabilities.tensor, "probabilities")
    }

    @Test func exportEqualsTheStateDictPyTorchRanToThosePredictions() throws {
        let exported = try Sequential.load(from: Self.ours).pyTorchSafetensors()
        let expected = try Safetensors(path: Fixtures.directory.appendingPathComponent("ours_model_as_torch.safetensors").path)
        #expect(Set(exported.tensors.keys) == Set(expected.tensors.keys))
        for (name, tensor) in expected.tensors { #expect(exported.tensors[name] == tensor, "\(name)") }
    }
}
