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

/// Any model of supported layers as a `torch.nn.Sequential`: each fixture's Python is what
/// `nn export` wrote; PyTorch built it, gave it random weights and ran it
/// (scripts/make_torch_sequential_fixtures.sh, then scripts/make_fixtures.py).
struct PyTorchSequentialTests {
    struct Fixture: Decodable { let input, output: FixtureTensor }
    static let folder = Fixtures.directory.appendingPathComponent("torch_sequential")
    /// Every model of the folder (a new one in scripts/make_torch_sequential_fixtures.sh needs no edit here).
    static let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()

    static func stateDict(_ name: String) -> String { folder.appendingPathComponent(name + ".safetensors").path }

    @Test(arguments: names)
    func pyTorchsStateDictLoadsAndPredictsWhatPyTorchPredicted(_ name: String) throws {
        let fixture = try Fixtures.load("torch_sequential/\(name).json", as: Fixture.self)
        let model = try Sequential.load(from: Self.stateDict(name))
        expectClose(model.predict(fixture.input.tensor), fixture.output.tensor, relative: 1e-4, absolute: 1e-5, name)
    }

    @Test(arguments: names)
    func exportWritesThePythonPyTorchRanAndItsStateDict(_ name: String) throws {
        let file = try Safetensors(path: Self.stateDict(name))
        let export = try Sequential.load(from: Self.stateDict(name)).pyTorchExport(weightsFile: name + ".safetensors")
        let python = try String(contentsOf: Self.folder.appendingPathComponent(name + ".py"), encoding: .utf8)
        #expect(export.python == python)
        #expect(Set(export.stateDict.tensors.keys) == Set(file.tensors.keys))
        for (key, tensor) in file.tensors where !key.contains(".bias_") {  // LSTM biases: see below
            #expect(export.stateDict.tensors[key] == tensor, "\(name): \(key)")
        }
        #expect(export.stateDict.metadata["nn_architecture"] == file.metadata["nn_architecture"])
    }

    /// PyTorch's two LSTM biases add up to ours: export writes the sum and zeros, which PyTorch
    /// runs the same.
    @Test func lstmBiasesAreSummedOnImportAndExportedAsTheSumAndZeros() throws {
        let file = try Safetensors(path: Self.stateDict("recurrent"))
        let export = try Sequential.load(from: Self.stateDict("recurrent")).pyTorchExport()
        for suffix in ["l0", "l0_reverse"] {
            let sum = zip(file.tensors["0.bias_ih_\(suffix)"]!.scalars, file.tensors["0.bias_hh_\(suffix)"]!.scalars).map(+)
            #expect(export.stateDict.tensors["0.bias_ih_\(suffix)"]!.scalars == sum)
            #expect(export.stateDict.tensors["0.bias_hh_\(suffix)"]!.scalars.allSatisfy { $0 == 0 })
        }
    }

    @Test func aStateDictWithoutItsArchitectureLoadsWithOneGiven() throws {
        var file = try Safetensors(path: Self.stateDict("mlp"))
        let description = try ModelSpec.layers(
            "flatten dense(16, relu) dropout(0.5) dense(12, elu) dense(12, leaky_relu) dense(12, softplus) dense(10, softmax)")
        file.metadata = ["format": "pt"]
        let model = try Sequential(pyTorch: file, file: "mlp", architecture: ModelDescription(inputShape: [28, 28], layers: description))
        let fixture = try Fixtures.load("torch_sequential/mlp.json", as: Fixture.self)
        expectClose(model.predict(fixture.input.tensor), fixture.output.tensor, relative: 1e-4, absolute: 1e-5, "mlp")
    }

    @Test func aStateDictThatDoesNotFitTheArchitectureIsAnErrorNamingTheTensor() throws {
        let file = try Safetensors(path: Self.stateDict("mlp"))
        func load(_ spec: String) throws {
            _ = try Sequential(pyTorch: file, file: "mlp.safetensors",
                               architecture: ModelDescription(inputShape: [28, 28], layers: try ModelSpec.layers(spec)))
        }
        #expect(throws: SafetensorsError.shapeMismatch(file: "mlp.safetensors", tensor: "1.weight", expected: [17, 784], found: [16, 784])) {
            try load("flatten dense(17, relu) dropout(0.5) dense(12, elu) dense(12, leaky_relu) dense(12, softplus) dense(10, softmax)")
        }
        #expect(throws: SafetensorsError.self) { try load("flatten dense(16, relu) dense(12, elu)") }  // unused tensors
        #expect(throws: SafetensorsError.missingTensor(file: "mlp.safetensors", tensor: "12.weight")) {
            try load("flatten dense(16, relu) dropout(0.5) dense(12, elu) dense(12, leaky_relu) dense(12, softplus) dense(10, softmax) dense(3)")
        }
    }

    @Test func aLayerWithoutAPyTorchEquivalentIsAnErrorNamingIt() throws {
        final class Opaque: Layer {
            static let typeName = "Opaque"
            var name = "opaque"
            var needsInputGradient = true
            struct Configuration: Codable, Sendable {}
            var configuration: Configuration { Configuration() }
            init() {}
            init(configuration: Configuration) {}
            func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }
            func forward(_ input: Tensor, context: ForwardContext) -> Tensor { input }
            func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
        }
        let model = Sequential { Dense(units: 2); Opaque() }
        try model.build(inputShape: [3], seed: 0)
        #expect(throws: ShapeError("opaque (Opaque) has no PyTorch equivalent: it does not conform to PyTorchConvertible")) {
            try model.pyTorchExport()
        }
    }
}
