import Foundation

/// A training checkpoint: one safetensors file with the weights, the optimizer's per-parameter
/// state (`optimizer.<slot>.<parameter>`: `optimizer.velocity.dense.kernel`, `optimizer.m.dense.kernel`, …),
/// and in `__metadata__` the architecture, the optimizer's type, hyperparameters and iteration
/// count, the ``TrainingState`` (epoch, shuffling generator, layers' random streams, history) and
/// the run's settings. Any registered optimizer works: nothing here names one. Written atomically,
/// so a run killed at any moment leaves the previous checkpoint whole.
public struct Checkpoint {
    public let model: Sequential
    public let optimizer: any Optimizer
    public let state: TrainingState
    /// The run's own settings (data directory, batch size, seed, …) as the CLI stored them.
    public let settings: [String: String]

    public init(model: Sequential, optimizer: any Optimizer, state: TrainingState, settings: [String: String] = [:]) {
        self.model = model
        self.optimizer = optimizer
        self.state = state
        self.settings = settings
    }

    static let optimizerPrefix = "optimizer."

    public func write(to path: String) throws {
        var extra: [String: Tensor] = [:]
        for parameter in model.trainableParameters {
            for slot in type(of: optimizer).slotNames {
                extra[Self.optimizerPrefix + slot + "." + parameter.name] =
                    Tensor(shape: parameter.shape, scalars: optimizer.state.values(slot, for: parameter))
            }
        }
        var metadata = settings.mapKeys { "setting." + $0 }
        metadata["optimizer"] = try canonicalJSON(OptimizerDescription(optimizer))
        metadata["training_state"] = try canonicalJSON(state, nonFiniteNumbers: true)
        try model.safetensors(extraTensors: extra, metadata: metadata).write(to: path)
    }

    /// Reads a checkpoint; optimizer and layer types outside the library need a `registry` that knows them.
    public init(path: String, registry: ModuleRegistry = .standard) throws {
        let file = try Safetensors(path: path)
        let model = try Sequential(file, path: path, registry: registry)
        guard let optimizerJSON = file.metadata["optimizer"], let stateJSON = file.metadata["training_state"] else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "not a checkpoint: no optimizer or training state")
        }
        let optimizer: any Optimizer
        let state: TrainingState
        do {
            optimizer = try registry.decoder().decode(OptimizerDescription.self, from: Data(optimizerJSON.utf8)).makeOptimizer()
            state = try JSONDecoder.keepingNonFiniteNumbers.decode(TrainingState.self, from: Data(stateJSON.utf8))
            try model.randomStreams.restore(state.randomStreams ?? [:])
        } catch let error as ShapeError {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "invalid optimizer or training state: \(error)")
        } catch {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "not a checkpoint: unreadable optimizer or training state")
        }
        for parameter in model.trainableParameters {
            for slot in type(of: optimizer).slotNames {
                let name = Self.optimizerPrefix + slot + "." + parameter.name
                guard let values = file.tensors[name] else { throw SafetensorsError.missingTensor(file: path, tensor: name) }
                guard values.shape == parameter.shape else {
                    throw SafetensorsError.shapeMismatch(file: path, tensor: name, expected: parameter.shape, found: values.shape)
                }
                optimizer.state.setValues(values.scalars, slot, for: parameter)
            }
        }
        self.model = model
        self.optimizer = optimizer
        self.state = state
        settings = Dictionary(uniqueKeysWithValues: file.metadata.compactMap { key, value in
            key.hasPrefix("setting.") ? (String(key.dropFirst("setting.".count)), value) : nil
        })
    }
}

extension Dictionary where Key == String {
    func mapKeys(_ transform: (String) -> String) -> [String: Value] {
        Dictionary(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
