import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn export`: a saved model in PyTorch's names and layouts, with the Python that builds it.
struct Export: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model's weights for PyTorch, with the torch.nn.Sequential they load into.",
        discussion: """
            --format torch writes the model's state_dict as safetensors (load it with \
            safetensors.torch.load_file) and, next to it with the extension .py, the Python of the \
            matching torch.nn.Sequential (make_model()); the README's PyTorch section lists each \
            layer's module. --names lstm-fc writes the reference model (a [Bi]LSTM and a Dense) in \
            the names of nn.LSTM `lstm` and nn.Linear `fc` instead, without the Python. PyTorch's \
            LSTM gates are sigmoid: a model with other gates (the reference's hard sigmoid) would \
            predict differently there, so it is refused unless --force is given.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case torch }
    enum Names: String, ExpressibleByArgument, CaseIterable {
        case sequential
        case lstmFC = "lstm-fc"
    }

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "Target format.")
    var format: Format = .torch

    @Option(help: "Tensor names: sequential (torch.nn.Sequential indices, any model) or lstm-fc (the reference model only).")
    var names: Names = .sequential

    @Option(help: "Output file (.safetensors); the Python goes beside it with the extension .py.")
    var output: String

    @Flag(help: "Export even when PyTorch would run the model differently (gates other than sigmoid).")
    var force = false

    /// The Python file written beside `output`.
    var pythonPath: String { (output as NSString).deletingPathExtension + ".py" }

    func execute() throws {
        let network = try loadModel(model)
        let gates = network.walkedLayers.compactMap { ($0.layer as? LSTM)?.recurrentActivation }
        if let gate = gates.first(where: { $0 != .sigmoid }), !force {
            throw CommandError("\(model) has \(gate.rawValue) LSTM gates; PyTorch's nn.LSTM runs sigmoid gates, so the "
                               + "export would predict differently there (pass --force to write it anyway)")
        }
        try OutputPaths.checkFile(output, flag: "--output")
        switch names {
        case .lstmFC:
            try network.pyTorchSafetensors().write(to: output)
        case .sequential:
            guard absolutePath(pythonPath) != absolutePath(output) else {
                throw CommandError("--output \(output): name a file with an extension (the Python goes to NAME.py)")
            }
            guard (pythonPath as NSString).lastPathComponent != "torch.py" else {
                throw CommandError("--output \(output): the Python would be torch.py, which shadows the torch package; "
                                   + "name the output otherwise (exported.safetensors)")
            }
            let export: PyTorchExport
            do { export = try network.pyTorchExport(weightsFile: (output as NSString).lastPathComponent) } catch let error as ShapeError {
                throw CommandError("\(model): \(error)")
            }
            try export.stateDict.write(to: output)
            try AtomicFile.write(Data(export.python.utf8), to: pythonPath)
            print("wrote \(output) and \(pythonPath)")
        }
        if let gate = gates.first(where: { $0 != .sigmoid }) {
            FileHandle.standardError.write(Data("nn: warning: \(output): PyTorch will run these \(gate.rawValue) gates as sigmoid\n".utf8))
        }
    }
}

/// `nn import`: a PyTorch state_dict and an architecture, as a NeuralNetworks model file.
struct Import: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Make a model file from a PyTorch state_dict (safetensors) and the model's architecture.",
        discussion: """
            The state_dict must be the one of the torch.nn.Sequential that `nn export` writes for \
            the same architecture (tensor names 0.weight, 0.bias, …; the README's PyTorch section \
            lists each layer's module). A file `nn export` wrote needs no --architecture: it carries \
            its own. Every tensor must be there with its shape, and every tensor of the file used.
            """)

    @Option(help: "The state_dict (safetensors, as safetensors.torch.save_file writes it).")
    var stateDict: String

    @Option(help: "The architecture: a model spec such as \"flatten dense(512, relu) dense(10, softmax)\", or a .json file (a saved model's architecture). Default: the one the file carries.")
    var architecture: String?

    @Option(help: "The input shape without the batch, such as 28,28 or 784 (default: the architecture file's).")
    var inputShape: String?

    @Option(help: "The model file to write (safetensors).")
    var output: String

    func execute() throws {
        let file = try Safetensors(path: stateDict)
        let network: Sequential
        if let architecture {
            var layers: [LayerDescription], shape = try inputShape.map(Self.shape)
            if architecture.hasSuffix(".json") {
                let read = try ArchitectureFile.read(architecture, flag: "--architecture")
                (layers, shape) = (read.layers, shape ?? read.inputShape)
            } else {
                do { layers = try ModelSpec.layers(architecture) } catch {
                    throw CommandError("--architecture: \(error)")
                }
            }
            guard let shape else { throw CommandError("--input-shape is needed: the architecture does not give one") }
            network = try Sequential(pyTorch: file, file: stateDict, architecture: ModelDescription(inputShape: shape, layers: layers))
        } else {
            guard file.metadata["nn_architecture"] != nil || file.tensors["lstm.weight_ih_l0"] != nil else {
                throw CommandError("\(stateDict) does not carry its architecture: give it with --architecture (and --input-shape)")
            }
            network = try Sequential.load(file, path: stateDict)
        }
        try OutputPaths.checkFile(output, flag: "--output")
        try OutputPaths.save(network, to: output)
        print("wrote \(output): \(network.layers.count) layers, \(Sequential.grouped(network.parameterCount)) parameters")
    }

    /// "28,28" → [28, 28], every dimension positive.
    static func shape(_ text: String) throws -> [Int] {
        let dimensions = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !dimensions.isEmpty, dimensions.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw CommandError("--input-shape \(text): give positive dimensions separated by commas, such as 28,28")
        }
        return dimensions.map { $0! }
    }
}
