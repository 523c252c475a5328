import Foundation

/// What every layer, optimizer and loss type is: from Swift 6.2 on, a type whose metatype may be
/// captured by the registry's `@Sendable` decoders (`SendableMetatype`).
#if compiler(>=6.2)
public protocol ModuleType: SendableMetatype {}
#else
public protocol ModuleType {}
#endif

/// Which layer types a model file may name, by ``Layer/typeName``: the decoder from a file's
/// `{"type": …, …configuration}` to a layer. Explicit, not global: ``standard`` holds the
/// library's layers, and a package with layers of its own loads its files with
/// `ModuleRegistry.standard.adding(MyLayer.self)`.
public struct ModuleRegistry: Sendable {
    typealias LayerDecoder = @Sendable (Decoder) throws -> LayerDescription
    typealias OptimizerDecoder = @Sendable (Decoder, Int) throws -> OptimizerDescription
    typealias LossDecoder = @Sendable (Decoder) throws -> Loss
    private var lossDecoders: [String: LossDecoder] = [:]
    private var lossAliases: [String: String] = [:]  // a spec alias, folded, → its loss type name
    private var lossAliasNames: Set<String> = []  // the aliases as spelled, for messages
    private var layerDecoders: [String: LayerDecoder] = [:]
    private var positionalKeys: [String: [String]] = [:]
    private var aliases: [String: String] = [:]  // a spec alias, folded, → its type name
    private var keyAliases: [String: [String: String]] = [:]  // type name → spec key alias → configuration key
    private var optimizerDecoders: [String: OptimizerDecoder] = [:]
    // Type name → its spec defaults as JSON, encoded when a spec asks (Data kept in a global
    // registry is reported as a leak by AddressSanitizer: its pointer is not one LSan recognises).
    private var optimizerDefaults: [String: @Sendable () -> Data?] = [:]
    private var optimizerAliases: [String: OptimizerAlias] = [:]  // a spec alias, folded → what it stands for

    public init() {}

    /// The library's own layers, optimizers and losses: every type of the library that gives its
    /// `typeName` a value, listed at build time (`libraryModules`, written by the StandardModules
    /// plugin from the sources), so that a module added to the library is one file.
    public static let standard = ModuleRegistry().adding(contentsOf: libraryModules)

    /// This registry with each of `types` added: layers, optimizers and losses alike.
    public func adding(contentsOf types: [any ModuleType.Type]) -> ModuleRegistry {
        types.reduce(self) { registry, type in
            if let layer = type as? any Layer.Type { return registry.adding(layer) }
            if let optimizer = type as? any Optimizer.Type { return registry.adding(optimizer) }
            if let loss = type as? any LossFunction.Type { return registry.adding(loss) }
            preconditionFailure("\(type) is neither a layer, an optimizer nor a loss")
        }
    }

    /// This registry with the loss `type` added (or replacing one of the same name).
    public func adding<L: LossFunction>(_ type: L.Type) -> ModuleRegistry {
        var registry = self
        registry.lossDecoders[L.typeName] = { decoder in Loss(try L(configuration: try L.Configuration(from: decoder))) }
        for alias in L.specAliases {
            registry.lossAliases[Self.fold(alias)] = L.typeName
            registry.lossAliasNames.insert(alias)
        }
        return registry
    }

    public var lossTypes: [String] { lossDecoders.keys.sorted() }

    /// The registered loss a spec's name stands for: a type name in any case, `_` or `-`
    /// optional (`categorical-crossentropy`), or one of its ``LossFunction/specAliases``.
    func lossType(spelled name: String) -> String? {
        let folded = Self.fold(name.replacingOccurrences(of: "-", with: "_"))
        return lossDecoders.keys.first(where: { Self.fold($0) == folded }) ?? lossAliases[folded]
    }

    /// The names a loss spec may use: the type names, then the aliases.
    public var lossSpellings: [String] { lossTypes + lossAliasNames.sorted() }

    func decodeLoss(type: String, from decoder: Decoder) throws -> Loss {
        guard let decode = lossDecoders[type] else {
            throw ShapeError("unknown loss \"\(ModelSpec.quoted(type))\" (known: \(lossTypes.joined(separator: ", ")))")
        }
        return try decode(decoder)
    }

    /// This registry with `type` added (or replacing a type of the same name).
    public func adding<L: Layer>(_ type: L.Type) -> ModuleRegistry {
        var registry = self
        registry.layerDecoders[L.typeName] = { decoder in
            LayerDescription(type: L.self, configuration: try L.Configuration(from: decoder))
        }
        registry.positionalKeys[L.typeName] = L.positionalKeys
        for alias in L.specAliases { registry.aliases[Self.fold(alias)] = L.typeName }
        registry.keyAliases[L.typeName] = L.specKeyAliases
        return registry
    }

    /// This registry with the optimizer `type` added (or replacing one of the same name).
    public func adding<O: Optimizer>(_ type: O.Type) -> ModuleRegistry {
        var registry = self
        registry.optimizerDecoders[O.typeName] = { decoder, iterations in
            OptimizerDescription(type: O.self, configuration: try O.Configuration(from: decoder), iterations: iterations)
        }
        registry.optimizerDefaults[O.typeName] = { O.specDefaults.flatMap { try? JSONEncoder().encode($0) } }
        // A type replaced takes its aliases with it (their settings were the old type's).
        registry.optimizerAliases = registry.optimizerAliases.filter { $0.value.type != O.typeName }
        for (alias, settings) in O.specAliases {
            registry.optimizerAliases[Self.fold(alias)] = OptimizerAlias(type: O.typeName, name: alias, settings: settings)
        }
        return registry
    }

    /// A spec's other name for an optimizer, with the settings it implies (`adamw`).
    struct OptimizerAlias: Sendable {
        let type, name, settings: String
    }

    /// The registered optimizer a spec's name stands for: a type name in any case, `_` or `-`
    /// optional (`rmsprop`), or an alias with its settings; nil for neither.
    func optimizerType(spelled name: String) -> (type: String, alias: OptimizerAlias?)? {
        let folded = Self.fold(name.replacingOccurrences(of: "-", with: "_"))
        if let type = optimizerDecoders.keys.first(where: { Self.fold($0) == folded }) { return (type, nil) }
        return optimizerAliases[folded].map { ($0.type, $0) }
    }

    /// The names an optimizer spec may use, in lower case: the type names, then the aliases.
    public var optimizerSpellings: [String] {
        optimizerTypes.map { $0.lowercased() } + optimizerAliases.values.map(\.name).sorted()
    }

    /// The settings a spec of optimizer `type` leaves out, as JSON values (none without defaults).
    func optimizerDefaults(of type: String) -> [String: Any] {
        optimizerDefaults[type]?().flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
    }

    /// The type names this registry knows.
    public var layerTypes: [String] { layerDecoders.keys.sorted() }

    /// The registered layer type a model spec's name stands for: the same letters ignoring case
    /// and underscores (`dense` → `Dense`, `gaussian_noise` → `GaussianNoise`), with its positional keys.
    func layerType(spelled name: String) -> (type: String, positionalKeys: [String])? {
        guard let type = layerDecoders.keys.first(where: { Self.fold($0) == Self.fold(name) }) ?? aliases[Self.fold(name)]
        else { return nil }
        return (type, positionalKeys[type] ?? [])
    }

    /// The configuration key a model spec's `key` stands for in a layer of `type`.
    func configurationKey(_ key: String, of type: String) -> String { keyAliases[type]?[key] ?? key }

    /// A spelling in any case, underscores optional.
    private static func fold(_ s: String) -> String { s.lowercased().replacingOccurrences(of: "_", with: "") }
    public var optimizerTypes: [String] { optimizerDecoders.keys.sorted() }

    func decodeOptimizer(type: String, iterations: Int, from decoder: Decoder) throws -> OptimizerDescription {
        guard let decode = optimizerDecoders[type] else {
            throw ShapeError("unknown optimizer type \"\(ModelSpec.quoted(type))\" (known: \(optimizerTypes.joined(separator: ", ")))")
        }
        return try decode(decoder, iterations)
    }

    func decodeLayer(type: String, from decoder: Decoder) throws -> LayerDescription {
        guard let decode = layerDecoders[type] else {
            throw ShapeError("unknown layer type \"\(ModelSpec.quoted(type))\" (known: \(layerTypes.joined(separator: ", ")))")
        }
        return try decode(decoder)
    }

    static let userInfoKey = CodingUserInfoKey(rawValue: "NeuralNetworks.ModuleRegistry")!

    /// A JSON decoder that resolves type names through this registry.
    public func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[Self.userInfoKey] = self
        return decoder
    }
}

/// A layer's architecture without its weights, as a model file stores it: `{"type": "Dense",
/// "units": 10, "activation": "softmax", "use_bias": true}` (the type name beside the keys of its
/// ``Layer/Configuration``). Decoding needs the type in the decoder's ``ModuleRegistry``
/// (``ModuleRegistry/standard`` when none is given).
public struct LayerDescription: Codable, Sendable, Equatable {
    public let type: String
    private let configuration: any Codable & Sendable
    private let make: @Sendable () throws -> any Layer

    init<L: Layer>(type: L.Type, configuration: L.Configuration) {
        self.type = L.typeName
        self.configuration = configuration
        make = { try L(configuration: configuration) }
    }

    /// The description of `layer` as it is configured now.
    public init<L: Layer>(_ layer: L) {
        self.init(type: L.self, configuration: layer.configuration)
    }

    /// A new, unbuilt layer of this description.
    public func makeLayer() throws -> any Layer { try make() }

    public init(from decoder: Decoder) throws {
        let registry = decoder.userInfo[ModuleRegistry.userInfoKey] as? ModuleRegistry ?? .standard
        self = try registry.decodeLayer(type: try TypedJSON.type(from: decoder), from: decoder)
    }

    public func encode(to encoder: Encoder) throws {
        try TypedJSON.encode(type: type, configuration: configuration, to: encoder)
    }

    public static func == (a: LayerDescription, b: LayerDescription) -> Bool {
        (try? canonicalJSON(a)) == (try? canonicalJSON(b))
    }
}

/// The architecture stored in a model file's `__metadata__` under `architecture`.
public struct ModelDescription: Codable, Equatable, Sendable {
    public var inputShape: [Int]
    public var layers: [LayerDescription]

    public init(inputShape: [Int], layers: [LayerDescription]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    enum CodingKeys: String, CodingKey {
        case inputShape = "input_shape", layers
    }
}

/// JSON text with sorted keys, so that the same model always writes the same bytes. A value
/// that is not finite is an error (a model's or optimizer's setting), unless `nonFiniteNumbers`
/// (a history's losses: see ``JSONEncoder/keepingNonFiniteNumbers(_:)``).
public func canonicalJSON<T: Encodable>(_ value: T, nonFiniteNumbers: Bool = false) throws -> String {
    let encoder = nonFiniteNumbers ? JSONEncoder.keepingNonFiniteNumbers([.sortedKeys]) : JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A history may hold an infinite or NaN loss (a diverged epoch): JSON has no such numbers, so
/// they are written as the strings "inf", "-inf" and "nan" (what Python's float() reads), and a
/// checkpoint's training state or a history of such a run is written and read instead of failing.
/// Settings keep the strict encoder: a non-finite one is refused when written, not when read.
extension JSONEncoder {
    static func keepingNonFiniteNumbers(_ formatting: OutputFormatting) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }
}

extension JSONDecoder {
    static var keepingNonFiniteNumbers: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
