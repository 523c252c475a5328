import Foundation

/// A layer's architecture without its weights: what a model file stores in its metadata so that
/// the model can be rebuilt from the file alone.
public struct LayerConfiguration: Codable, Equatable, Sendable {
    public var type: String
    public var units: Int
    public var activation: Activation?
    public var recurrentActivation: Activation?
    public var useBias: Bool?
    public var returnSequences: Bool?
    public var goBackwards: Bool?
    public var unitForgetBias: Bool?
    /// The wrapped layer of a `Bidirectional`.
    public var layer: [LayerConfiguration]?

    enum CodingKeys: String, CodingKey {
        case type, units, activation, layer
        case recurrentActivation = "recurrent_activation", useBias = "use_bias"
        case returnSequences = "return_sequences", goBackwards = "go_backwards", unitForgetBias = "unit_forget_bias"
    }

    init(type: String, units: Int) {
        self.type = type
        self.units = units
    }

    /// The number of parameters this layer would create for inputs of `inputShape`, and its output
    /// shape, computed without allocating anything; nil when the numbers do not fit an `Int`.
    /// Lets a model file be checked against what it holds before a hostile architecture
    /// (say, a billion units) allocates anything.
    public func parameterCount(inputShape: [Int]) -> (count: Int, outputShape: [Int])? {
        func product(_ values: Int...) -> Int? {
            var result = 1
            for value in values {
                let (p, overflow) = result.multipliedReportingOverflow(by: value)
                if overflow || value < 0 { return nil }
                result = p
            }
            return result
        }
        guard let width = inputShape.last, units > 0, units < 1 << 24 else { return nil }
        switch type {
        case "Dense":
            guard let kernel = product(width, units) else { return nil }
            return (kernel + ((useBias ?? true) ? units : 0), Array(inputShape.dropLast()) + [units])
        case "LSTM", "Bidirectional":
            let inner = type == "LSTM" ? self : layer?.first
            guard let inner, inner.units > 0, inner.units < 1 << 24, inputShape.count == 2,
                  let one = product(4, inner.units, width + inner.units + 1) else { return nil }
            let directions = type == "LSTM" ? 1 : 2
            let sequences = inner.returnSequences ?? false
            let output = (sequences ? [inputShape[0]] : []) + [directions * inner.units]
            return (directions * one, output)
        default:
            return nil
        }
    }

    /// A new layer of this configuration (parameters are created by `build`). With `forLoading`,
    /// its initializers are zeros: the values come from a file, so an orthogonal initialisation
    /// (cubic in the units) would be wasted.
    public func makeLayer(forLoading: Bool = false) throws -> Layer {
        switch type {
        case "Dense":
            return Dense(units: units, activation: activation ?? .linear, useBias: useBias ?? true,
                         kernelInitializer: forLoading ? .zeros : .glorotUniform)
        case "LSTM":
            return try makeLSTM(forLoading: forLoading)
        case "Bidirectional":
            guard let inner = layer?.first, inner.type == "LSTM" else {
                throw ShapeError("Bidirectional needs an LSTM inside")
            }
            return Bidirectional(try inner.makeLSTM(forLoading: forLoading))
        default:
            throw ShapeError("unknown layer type \(type)")
        }
    }

    private func makeLSTM(forLoading: Bool) throws -> LSTM {
        guard units > 0 else { throw ShapeError("LSTM units must be positive, got \(units)") }
        let act = activation ?? .tanh, gate = recurrentActivation ?? .sigmoid
        guard act != .softmax, gate != .softmax else { throw ShapeError("softmax is not an LSTM activation") }
        return LSTM(units: units, activation: act, recurrentActivation: gate,
                    returnSequences: returnSequences ?? false, goBackwards: goBackwards ?? false,
                    unitForgetBias: unitForgetBias ?? true,
                    kernelInitializer: forLoading ? .zeros : .glorotUniform,
                    recurrentInitializer: forLoading ? .zeros : .orthogonal())
    }
}

extension Dense {
    public var configuration: LayerConfiguration {
        var c = LayerConfiguration(type: "Dense", units: units)
        c.activation = activation
        c.useBias = useBias
        return c
    }
}

extension LSTM {
    public var configuration: LayerConfiguration {
        var c = LayerConfiguration(type: "LSTM", units: units)
        c.activation = activation
        c.recurrentActivation = recurrentActivation
        c.returnSequences = returnSequences
        c.goBackwards = goBackwards
        c.unitForgetBias = unitForgetBias
        return c
    }
}

extension Bidirectional {
    public var configuration: LayerConfiguration {
        var c = LayerConfiguration(type: "Bidirectional", units: forwardLayer.units)
        c.layer = [forwardLayer.configuration]
        return c
    }
}

/// The architecture stored in a model file's `__metadata__` under `architecture`.
public struct ModelDescription: Codable, Equatable, Sendable {
    public var inputShape: [Int]
    public var layers: [LayerConfiguration]

    enum CodingKeys: String, CodingKey {
        case inputShape = "input_shape", layers
    }
}

/// JSON text with sorted keys, so that the same model always writes the same bytes.
func canonicalJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
