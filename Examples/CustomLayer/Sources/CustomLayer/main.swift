import Foundation
import NeuralNetworks

// Trains a model with a layer, a loss and an optimizer of this package's own, saves and loads it
// through a registry that knows them, and resumes a checkpoint exactly. Exits 1 on any mismatch.
func check(_ condition: Bool, _ what: String) {
    guard condition else {
        FileHandle.standardError.write(Data("CustomLayer: FAILED: \(what)\n".utf8))
        exit(1)
    }
    print("ok: \(what)")
}

let registry = ModuleRegistry.standard.adding(Scale.self).adding(LogCosh.self).adding(SignSGD.self)
let data = try IDXDirectory(directory: CommandLine.arguments.dropFirst().first ?? "/usr/share/datasets/fashion-mnist")
let train = data.train.prefix(1024), test = data.test.prefix(256)
func makeModel() throws -> Sequential {
    // The same model from a spec: the registry makes "scale(0.5)" a Scale layer.
    try ModelSpec.model("flatten scale(0.5) dense(32, relu) dense(10, softmax)", registry: registry)
}
let logCosh = Loss(LogCosh(scale: 0.5))

let model = try makeModel()
let history = try model.fit(train, validation: test, loss: logCosh, optimizer: SignSGD(learningRate: 0.002),
                            epochs: 3, batchSize: 64, seed: 1)
print(model.summary(), terminator: "")
for report in history { print(report.line) }
check(model.parameters.map(\.name).contains("scale.gamma"), "the layer's weights are named by the walk")
check(history[2].trainLoss < history[0].trainLoss, "the model learns (loss \(history[0].trainLoss) → \(history[2].trainLoss))")

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custom-layer-\(getpid())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let file = directory + "/model.safetensors"
try model.save(to: file)
let loaded = try Sequential.load(from: file, registry: registry)
let sample = try test.batch(0..<16).inputs
check(loaded.predict(sample) == model.predict(sample), "a saved model loads with its own layer and predicts the same")
do {
    _ = try Sequential.load(from: file)
    check(false, "a registry without Scale refuses the file")
} catch {
    check("\(error)".contains("Scale"), "a registry without Scale refuses the file, naming it: \(error)")
}

// PyTorch: the layer's own module in the exported torch.nn.Sequential, and back.
let export = try model.pyTorchExport(weightsFile: "model.safetensors")
check(export.stateDict.tensors["1.gamma"] != nil && export.python.contains("class Scale(nn.Module)"),
      "the layer exports to PyTorch as its own module (1.gamma, class Scale)")
let reimported = try Sequential.load(export.stateDict, path: "exported", registry: registry)
check(reimported.predict(sample) == model.predict(sample), "the PyTorch export reads back and predicts the same")

// Exact resume with the custom optimizer: one epoch, checkpoint, two more, against three straight.
let straight = try makeModel().fit(train, validation: test, loss: logCosh, optimizer: SignSGD(learningRate: 0.002),
                                   epochs: 3, batchSize: 64, seed: 1)
let first = try makeModel(), optimizer = SignSGD(learningRate: 0.002)
let checkpointFile = directory + "/last.safetensors"
try first.fit(train, validation: test, loss: logCosh, optimizer: optimizer, epochs: 1, batchSize: 64, seed: 1,
              onCheckpoint: { try Checkpoint(model: first, optimizer: optimizer, state: $0).write(to: checkpointFile) })
let checkpoint = try Checkpoint(path: checkpointFile, registry: registry)
let resumed = try checkpoint.model.fit(train, validation: test, loss: logCosh, optimizer: checkpoint.optimizer, epochs: 3,
                                       batchSize: 64, seed: 1, resumeFrom: checkpoint.state)
check(resumed.map(\.trainLoss) == straight.map(\.trainLoss), "a checkpoint with SignSGD's state resumes exactly")
try? FileManager.default.removeItem(atPath: directory)
