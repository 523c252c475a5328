import ArgumentParser
import NeuralNetworks

/// `nn summary`: the Keras-style table of a saved model.
struct Summary: ReportingCommand {
    static let configuration = CommandConfiguration(abstract: "Print the layers, output shapes and parameter counts of a saved model.")

    @Option(help: "A model file (safetensors, from nn train --save or a PyTorch state_dict).")
    var model: String

    func execute() throws {
        print(try loadModel(model).summary(), terminator: "")
    }
}
