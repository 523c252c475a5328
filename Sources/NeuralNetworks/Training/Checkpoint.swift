import Foundation

/// A training checkpoint: one safetensors file with the weights, the optimizer's velocities
/// (`optimizer.velocity.<parameter>`), and in `__metadata__` the architecture, the optimizer's
/// hyperparameters and iteration count, the ``TrainingState`` (epoch, shuffling generator,
/// history) and the run's settings. Written atomically, so a run killed at any moment leaves the
/// previous checkpoint whole.
public struct Checkpoint {
    public let model: Sequential
    public let optimizer: SGD
    public let state: TrainingState
    /// The run's own settings (data directory, batch size, seed, …) as the CLI stored them.
    public let settings: [String: String]

    public init(model: Sequential, optimizer: SGD, state: TrainingState, settings: [String: String] = [:]) {
        self.model = model
        self.optimizer = optimizer
        self.state = state
        self.settings = settings
    }

    static let velocityPrefix = "optimizer.velocity."

    public func write(to path: String) throws {
        var extra: [String: Tensor] = [:]
        for parameter in model.parameters {
            extra[Self.velocityPrefix + parameter.name] = Tensor(shape: parameter.shape, scalars: optimizer.velocity(for: parameter))
        }
        var metadata = settings.mapKeys { "setting." + $0 }
        metadata["optimizer"] = try canonicalJSON(optimizer.configuration)
        metadata["training_state"] = try canonicalJSON(state)
        try model.safetensors(extraTensors: extra, metadata: metadata).write(to: path)
    }

    public init(path: String) throws {
        let file = try Safetensors(path: path)
        let model = try Sequential(file, path: path)
        guard let optimizerJSON = file.metadata["optimizer"],
              let configuration = try? JSONDecoder().decode(SGD.Configuration.self, from: Data(optimizerJSON.utf8)),
              let stateJSON = file.metadata["training_state"],
              let state = try? JSONDecoder().decode(TrainingState.self, from: Data(stateJSON.utf8))
        else { throw SafetensorsError.unknownArchitecture(file: path, reason: "not a checkpoint: no optimizer or training state") }
        guard configuration.isValid else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "invalid optimizer settings")
        }
        let optimizer = SGD(configuration)
        for parameter in model.parameters {
            let name = Self.velocityPrefix + parameter.name
            guard let velocity = file.tensors[name] else { throw SafetensorsError.missingTensor(file: path, tensor: name) }
            guard velocity.shape == parameter.shape else {
                throw SafetensorsError.shapeMismatch(file: path, tensor: name, expected: parameter.shape, found: velocity.shape)
            }
            optimizer.setVelocity(velocity.scalars, for: parameter)
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
