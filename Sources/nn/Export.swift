import ArgumentParser
import NeuralNetworks

/// `nn export`: a saved model in another framework's names and layout.
struct Export: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model's weights for PyTorch.",
        discussion: """
            --format torch writes the state_dict of nn.LSTM(features, units, batch_first=True, \
            bidirectional=True) named `lstm` and nn.Linear(2·units, classes) named `fc` as \
            safetensors (load it with safetensors.torch.load_file). PyTorch's gates are sigmoid: \
            a model trained with hard sigmoid gates will predict differently there.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case torch }

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "Target format.")
    var format: Format = .torch

    @Option(help: "Output file.")
    var output: String

    func execute() throws {
        let network = try loadModel(model)
        try network.pyTorchSafetensors().write(to: output)
    }
}
