import Foundation

/// Saving and loading models as safetensors.
///
/// Tensor names are the parameter names (`bidirectional.forward.kernel`, …, `dense.bias`), in
/// Keras' layout; `__metadata__` holds `format` = `neuralnetworks` and `architecture`, a JSON
/// ``ModelDescription``, so that a model is rebuilt from the file alone, and the loss it was
/// trained with (`loss`, its type and settings) where it has one. A file written from the
/// `state_dict` of the equivalent PyTorch model loads too (see ``Sequential/init(pyTorch:file:inputShape:recurrentActivation:)``).
extension Sequential {
    /// Each layer's description (type and configuration), from the layer itself.
    public var layerDescriptions: [LayerDescription] { layers.map { LayerDescription($0) } }

    public var modelDescription: ModelDescription {
        precondition(isBuilt, "build the model before describing it")
        return ModelDescription(inputShape: inputShape!, layers: layerDescriptions)
    }

    /// The weights and architecture as a safetensors value; `extra` tensors and metadata ride along
    /// (checkpoints use them for the optimizer and the training state).
    public func safetensors(extraTensors: [String: Tensor] = [:], metadata: [String: String] = [:]) throws -> Safetensors {
        var tensors = extraTensors
        for parameter in parameters { tensors[parameter.name] = parameter.tensor }
        var meta = metadata
        meta["format"] = "neuralnetworks"
        meta["architecture"] = try canonicalJSON(modelDescription)
        if let classNames { meta["class_names"] = try canonicalJSON(classNames) }
        if let featureNames { meta["feature_names"] = try canonicalJSON(featureNames) }
        if let loss { meta["loss"] = try canonicalJSON(loss) }
        return Safetensors(tensors: tensors, metadata: meta)
    }

    /// Writes the model to `path` atomically.
    public func save(to path: String) throws {
        try safetensors().write(to: path)
    }

    /// Reads a model written by ``save(to:)`` or a PyTorch `state_dict` file (then `recurrentActivation`
    /// applies unless the file's metadata names one; PyTorch's gates are sigmoid). Layer types
    /// outside the library need a `registry` that knows them.
    public static func load(from path: String, recurrentActivation: Activation = .sigmoid,
                            registry: ModuleRegistry = .standard) throws -> Sequential {
        try load(Safetensors(path: path), path: path, recurrentActivation: recurrentActivation, registry: registry)
    }

    /// The model of a parsed file, ours or PyTorch's (see ``load(from:recurrentActivation:registry:)``).
    public static func load(_ file: Safetensors, path: String, recurrentActivation: Activation = .sigmoid,
                            registry: ModuleRegistry = .standard) throws -> Sequential {
        if file.metadata["format"] == "neuralnetworks" { return try Sequential(file, path: path, registry: registry) }
        if let json = file.metadata["nn_architecture"] {
            return try Sequential(pyTorch: file, file: path,
                                  architecture: ModelDescription.decode(json, file: path, registry: registry))
        }
        if file.tensors["lstm.weight_ih_l0"] != nil {
            return try Sequential(pyTorch: file, file: path, recurrentActivation: recurrentActivation)
        }
        throw SafetensorsError.unknownArchitecture(
            file: path, reason: "neither NeuralNetworks metadata nor PyTorch's lstm.* and fc.* tensors "
                + "(a state_dict of another model loads with its architecture: nn import --architecture)")
    }

    /// Rebuilds a model from its ``safetensors(extraTensors:metadata:)`` form.
    public convenience init(_ file: Safetensors, path: String, registry: ModuleRegistry = .standard) throws {
        guard let json = file.metadata["architecture"] else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "no architecture in __metadata__")
        }
        let description = try ModelDescription.decode(json, file: path, registry: registry)
        do {
            self.init(layers: try description.layers.map { try $0.makeLayer() })
            // No more values than the file holds (small models pass, so that a missing tensor is
            // reported by name below): a hostile architecture is refused before it allocates.
            let allowed = max(file.tensors.values.reduce(0, { $0 + $1.count }), 1 << 20)
            try build(inputShape: description.inputShape, seed: 0, initializesValues: false, maximumValues: allowed)
        } catch let error as ShapeError {
            throw SafetensorsError.unknownArchitecture(file: path, reason: error.description)
        }
        if let names = file.metadata["class_names"] {
            guard let decoded = try? JSONDecoder().decode([String].self, from: Data(names.utf8)),
                  decoded.count == outputShape.last || (outputShape == [1] && decoded.count == 2) else {
                throw SafetensorsError.unknownArchitecture(
                    file: path, reason: "class_names in __metadata__ is not a list of one name per output class")
            }
            classNames = decoded
        }
        if let names = file.metadata["feature_names"] {
            guard let decoded = try? JSONDecoder().decode([String].self, from: Data(names.utf8)),
                  [decoded.count] == inputShape, Set(decoded).count == decoded.count else {
                throw SafetensorsError.unknownArchitecture(
                    file: path, reason: "feature_names in __metadata__ is not a list of one distinct name per input feature")
            }
            featureNames = decoded
        }
        if let json = file.metadata["loss"] {
            do {
                loss = try registry.decoder().decode(Loss.self, from: Data(json.utf8))
            } catch {
                lossReadError = "its loss (__metadata__ loss) is " + ((error as? ShapeError).map { "unreadable: \($0)" }
                    ?? "not a loss's type and settings")
            }
        }
        // A checkpoint is a model file too: its optimizer's tensors ride along.
        try assign(file.tensors, file: path, ignoringPrefix: file.metadata["optimizer"] != nil ? Checkpoint.optimizerPrefix : nil)
    }

    /// Copies `tensors` into the parameters of the same names, checking each shape and that every
    /// value is finite; a tensor the model does not use is an error too (a stacked or otherwise
    /// different model would load silently wrong), except the optimizer's in a checkpoint.
    public func assign(_ tensors: [String: Tensor], file: String, ignoringPrefix ignored: String? = nil) throws {
        for parameter in parameters {
            guard let tensor = tensors[parameter.name] else {
                throw SafetensorsError.missingTensor(file: file, tensor: parameter.name)
            }
            guard tensor.shape == parameter.shape else {
                throw SafetensorsError.shapeMismatch(file: file, tensor: parameter.name, expected: parameter.shape, found: tensor.shape)
            }
            if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw SafetensorsError.nonFinite(file: file, tensor: parameter.name, index: bad, value: tensor.scalars[bad])
            }
        }
        let used = Set(parameters.map(\.name))
        let unused = tensors.keys.filter { !used.contains($0) && !(ignored.map($0.hasPrefix) ?? false) }.sorted()
        guard unused.isEmpty else {
            throw SafetensorsError.unusedTensors(file: file, tensors: unused, reason: "the architecture has no such parameters")
        }
        for parameter in parameters { parameter.tensor = tensors[parameter.name]! }
    }
}

extension ModelDescription {
    /// The description in a file's metadata, through `registry`; errors name `file`.
    static func decode(_ json: String, file: String, registry: ModuleRegistry) throws -> ModelDescription {
        let description: ModelDescription
        do {
            description = try registry.decoder().decode(ModelDescription.self, from: Data(json.utf8))
        } catch let error as ShapeError {
            throw SafetensorsError.unknownArchitecture(file: file, reason: error.description)
        } catch {
            throw SafetensorsError.unknownArchitecture(file: file, reason: "no readable architecture in __metadata__")
        }
        guard !description.layers.isEmpty, description.inputShape.allSatisfy({ $0 > 0 }) else {
            throw SafetensorsError.unknownArchitecture(file: file, reason: "empty architecture or input shape")
        }
        return description
    }
}
