import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn export`: a saved model in another framework's names and layout.
struct Export: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model's weights for PyTorch.",
        discussion: """
            --format torch writes the state_dict of nn.LSTM(features, units, batch_first=True, \
            bidirectional=True) named `lstm` and nn.Linear(2·units, classes) named `fc` as \
            safetensors (load it with safetensors.torch.load_file). PyTorch's gates are sigmoid: \
            a model with other gates (the reference's hard sigmoid) would predict differently \
            there, so it is refused unless --force is given.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case torch }

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "Target format.")
    var format: Format = .torch

    @Option(help: "Output file.")
    var output: String

    @Flag(help: "Export even when PyTorch would run the model differently (gates other than sigmoid).")
    var force = false

    func execute() throws {
        let network = try loadModel(model)
        let gates = network.walkedLayers.compactMap { ($0.layer as? LSTM)?.recurrentActivation }
        if let gate = gates.first(where: { $0 != .sigmoid }), !force {
            throw CommandError("\(model) has \(gate.rawValue) LSTM gates; PyTorch's nn.LSTM runs sigmoid gates, so the "
                               + "export would predict differently there (pass --force to write it anyway)")
        }
        try network.pyTorchSafetensors().write(to: output)
        if let gate = gates.first(where: { $0 != .sigmoid }) {
            FileHandle.standardError.write(Data("nn: warning: \(output): PyTorch will run these \(gate.rawValue) gates as sigmoid\n".utf8))
        }
    }
}
