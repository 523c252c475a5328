import Foundation

/// Saving and loading models as safetensors.
///
/// Tensor names are the parameter names (`bidirectional.forward.kernel`, …, `dense.bias`), in
/// Keras' layout; `__metadata__` holds `format` = `neuralnetworks` and `architecture`, a JSON
/// ``ModelDescription``, so that a model is rebuilt from the file alone. A file written from the
/// `state_dict` of the equivalent PyTorch model loads too (see ``Sequential/init(pyTorch:file:inputShape:recurrentActivation:)``).
extension Sequential {
    public var layerConfigurations: [LayerConfiguration] {
        layers.map { layer in
            switch layer {
            case let dense as Dense: return dense.configuration
            case let lstm as LSTM: return lstm.configuration
            case let bidirectional as Bidirectional: return bidirectional.configuration
            default: preconditionFailure("\(layer.typeName) cannot be described")
            }
        }
    }

    public var modelDescription: ModelDescription {
        precondition(isBuilt, "build the model before describing it")
        return ModelDescription(inputShape: inputShape!, layers: layerConfigurations)
    }

    /// The weights and architecture as a safetensors value; `extra` tensors and metadata ride along
    /// (checkpoints use them for the optimizer and the training state).
    public func safetensors(extraTensors: [String: Tensor] = [:], metadata: [String: String] = [:]) throws -> Safetensors {
        var tensors = extraTensors
        for parameter in parameters { tensors[parameter.name] = parameter.tensor }
        var meta = metadata
        meta["format"] = "neuralnetworks"
        meta["architecture"] = try canonicalJSON(modelDescription)
        return Safetensors(tensors: tensors, metadata: meta)
    }

    /// Writes the model to `path` atomically.
    public func save(to path: String) throws {
        try safetensors().write(to: path)
    }

    /// Reads a model written by ``save(to:)`` or a PyTorch `state_dict` file (then `recurrentActivation`
    /// applies unless the file's metadata names one; PyTorch's gates are sigmoid).
    public static func load(from path: String, recurrentActivation: Activation = .sigmoid) throws -> Sequential {
        try load(Safetensors(path: path), path: path, recurrentActivation: recurrentActivation)
    }

    /// The model of a parsed file, ours or PyTorch's (see ``load(from:recurrentActivation:)``).
    public static func load(_ file: Safetensors, path: String, recurrentActivation: Activation = .sigmoid) throws -> Sequential {
        if file.metadata["format"] == "neuralnetworks" { return try Sequential(file, path: path) }
        if file.tensors["lstm.weight_ih_l0"] != nil {
            return try Sequential(pyTorch: file, file: path, recurrentActivation: recurrentActivation)
        }
        throw SafetensorsError.unknownArchitecture(
            file: path, reason: "neither NeuralNetworks metadata nor PyTorch's lstm.* and fc.* tensors")
    }

    /// Rebuilds a model from its ``safetensors(extraTensors:metadata:)`` form.
    public convenience init(_ file: Safetensors, path: String) throws {
        guard let json = file.metadata["architecture"],
              let description = try? JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8)) else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "no readable architecture in __metadata__")
        }
        guard !description.layers.isEmpty, description.inputShape.allSatisfy({ $0 > 0 }) else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "empty architecture or input shape")
        }
        // Count what the architecture would allocate before building it: no more than the file holds
        // (small models pass, so that a missing tensor is reported by name below).
        let allowed = max(file.tensors.values.reduce(0, { $0 + $1.count }), 1 << 20)
        var shape = description.inputShape, needed = 0
        for layer in description.layers {
            guard let (count, output) = layer.parameterCount(inputShape: shape) else {
                throw SafetensorsError.unknownArchitecture(file: path, reason: "layer \(layer.type) does not fit input \(shape)")
            }
            needed += count
            shape = output
            guard needed <= allowed else {
                throw SafetensorsError.unknownArchitecture(
                    file: path, reason: "the architecture needs more parameters than the file's tensors hold")
            }
        }
        let layers: [Layer]
        do {
            layers = try description.layers.map { try $0.makeLayer(forLoading: true) }
        } catch {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "\(error)")
        }
        self.init(layers: layers)
        do {
            try build(inputShape: description.inputShape, seed: 0)
        } catch {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "\(error)")
        }
        try assign(file.tensors, file: path)
    }

    /// Copies `tensors` into the parameters of the same names, checking each shape.
    public func assign(_ tensors: [String: Tensor], file: String) throws {
        for parameter in parameters {
            guard let tensor = tensors[parameter.name] else {
                throw SafetensorsError.missingTensor(file: file, tensor: parameter.name)
            }
            guard tensor.shape == parameter.shape else {
                throw SafetensorsError.shapeMismatch(file: file, tensor: parameter.name, expected: parameter.shape, found: tensor.shape)
            }
        }
        for parameter in parameters { parameter.tensor = tensors[parameter.name]! }
    }
}
