import Foundation

/// A model written in one line, for the command line and quick experiments:
///
///     flatten dense(512, relu) dropout(0.5) dense(classes, softmax)
///     bilstm(128, recurrent_activation=hard_sigmoid) dense(10, softmax)
///     dense(512, sigmoid, kernel_initializer=random_uniform(low=-0.01, high=0.01))
///
/// Layers are separated by spaces (or `->`, `→`, `|`). A layer is its type name in any case,
/// with or without underscores (`dense`, `gaussian_noise`, `LSTM`), with arguments in parentheses:
/// positional ones fill the layer's ``Layer/positionalKeys`` in order, `key=value` (or `key: value`)
/// ones any key of its configuration (as in a model file). Values are numbers, names (`relu`, `true`), lists
/// (`reshape([28, -1])`) and calls (`bidirectional(lstm(64))`, initializers). Three shorthands:
/// `bi<layer>(…)` is `bidirectional(<layer>(…))`, `seq` among the arguments is
/// `return_sequences=true` (`gru(128, seq)`), and an activation's name alone is an
/// `activation(…)` layer. The name `classes` stands for the data's class count.
/// Nothing here names a layer type: every layer in the registry can be written.
public enum ModelSpec {
    /// The layer descriptions of `text`; throws ``ModelSpecError`` naming the column and what was expected.
    public static func layers(_ text: String, classes: Int? = nil,
                              registry: ModuleRegistry = .standard) throws -> [LayerDescription] {
        var parser = Parser(text: Array(text), classes: classes, registry: registry)
        return try parser.spec()
    }

    /// A new, unbuilt model of `text`.
    public static func model(_ text: String, classes: Int? = nil, registry: ModuleRegistry = .standard) throws -> Sequential {
        let descriptions = try layers(text, classes: classes, registry: registry)
        return Sequential(layers: try descriptions.map { try $0.makeLayer() })
    }

    /// The loss `text` names: see ``Loss/init(spec:registry:)``.
    static func loss(_ text: String, registry: ModuleRegistry) throws -> Loss {
        var parser = Parser(text: Array(text), classes: nil, registry: registry)
        parser.subject = "loss"
        return try parser.lossSpec()
    }

    /// `text` as an error quotes it: at most 40 characters (a hostile name may be megabytes).
    static func quoted(_ text: String) -> String { text.count <= 40 ? text : text.prefix(40) + "…" }

    /// `name` or `name(key=value, …)`, alone: how a loss or an optimizer is written.
    static func settingsCall(_ text: String, subject: String, example: String,
                             registry: ModuleRegistry) throws -> SettingsCall {
        var parser = Parser(text: Array(text), classes: nil, registry: registry)
        parser.subject = subject
        return try parser.settingsCall(example: example)
    }

    private struct Parser {
        let text: [Character]
        let classes: Int?
        let registry: ModuleRegistry
        var position = 0
        var subject = "model spec"  // what errors say they are about
        var depth = 0  // lists and calls open around the current position

        /// Far beyond any spec; bounded so that a hostile one cannot exhaust the stack.
        static let deepest = 64

        mutating func enter() throws {
            depth += 1
            if depth > Self.deepest { throw error("nested more than \(Self.deepest) deep") }
        }


        init(text: [Character], classes: Int?, registry: ModuleRegistry) {
            self.text = text
            self.classes = classes
            self.registry = registry
        }

        var column: Int { position + 1 }
        var atEnd: Bool { position >= text.count }
        var current: Character? { atEnd ? nil : text[position] }

        func error(_ message: String, at column: Int? = nil) -> ModelSpecError {
            ModelSpecError(column: column ?? self.column, message: message, subject: subject)
        }

        /// `name` or `name(key=value, …)` and nothing after it: a loss or an optimizer, whose
        /// settings are key=value only. `example` completes "expected …" for an empty text.
        mutating func settingsCall(example: String) throws -> SettingsCall {
            skipSpaces()
            let start = column, first = position
            while let c = current, c.isLetter || c.isNumber || c == "_" || c == "-" { position += 1 }
            let spelled = String(text[first..<position])
            guard !spelled.isEmpty else { throw error("expected \(example)") }
            skipSpaces()
            var settings: [(String, Any, Int)] = []
            if current == "(" {
                let (positional, given) = try arguments()
                guard positional.isEmpty else { throw error("\(spelled)(…) takes key=value settings only", at: start) }
                for (index, (key, _, column)) in given.enumerated() where given[..<index].contains(where: { $0.0 == key }) {
                    throw error("\(spelled): \(key) is given twice", at: column)
                }
                settings = given
            }
            skipSpaces()
            guard atEnd else { throw error("expected the end of the \(subject), found '\(current!)'") }
            return SettingsCall(spelled: spelled, column: start, settings: settings)
        }

        /// The loss of a settings call: a registered loss, every setting one it has (decoding
        /// alone would ignore a typo).
        mutating func lossSpec() throws -> Loss {
            let call = try settingsCall(example: "a loss, such as categorical_crossentropy or huber(delta=2)")
            guard let type = registry.lossType(spelled: call.spelled) else {
                throw error("unknown loss \"\(ModelSpec.quoted(call.spelled))\" (known: \(registry.lossSpellings.joined(separator: ", ")))",
                            at: call.column)
            }
            var object: [String: Any] = ["type": type]
            for (key, value, _) in call.settings { object[key] = value }
            return try call.decode(Loss.self, object, type: type, registry: registry, subject: subject, make: { $0 }) {
                SettingNames.of($0.function.configuration)
            }
        }
        mutating func skipSpaces() {
            while let c = current, c.isWhitespace { position += 1 }
        }

        /// Spaces and the arrows or bars that may stand between layers.
        mutating func skipSeparators() {
            while true {
                skipSpaces()
                if current == "|" || current == "→" {
                    position += 1
                } else if current == "-", position + 1 < text.count, text[position + 1] == ">" {
                    position += 2
                } else {
                    return
                }
            }
        }

        mutating func expect(_ c: Character, _ what: String) throws {
            skipSpaces()
            guard current == c else {
                throw error("expected '\(c)' \(what), found \(current.map { "'\($0)'" } ?? "the end")")
            }
            position += 1
        }

        mutating func spec() throws -> [LayerDescription] {
            var layers: [LayerDescription] = []
            skipSeparators()
            guard !atEnd else { throw error("expected a layer, such as dense(10, softmax)") }
            while !atEnd {
                let start = column
                let object = try layer(topLevel: true)
                layers.append(try describe(object, at: start))
                skipSeparators()
            }
            return layers
        }

        mutating func name() throws -> String {
            skipSpaces()
            let start = position
            while let c = current, c.isLetter || c.isNumber || c == "_" { position += 1 }
            guard position > start, text[start].isLetter else {
                throw error("expected a name, found \(current.map { "'\($0)'" } ?? "the end")")
            }
            return String(text[start..<position])
        }

        /// Whether `word` is a layer's name, or `bi` and one.
        func namesLayer(_ word: String) -> Bool {
            registry.layerType(spelled: word) != nil
                || (word.lowercased().hasPrefix("bi") && registry.layerType(spelled: String(word.dropFirst(2))) != nil)
        }

        /// A layer call at the current position, as the JSON object a model file would hold.
        mutating func layer(topLevel: Bool) throws -> [String: Any] {
            let start = column
            let spelled = try name()
            skipSpaces()
            let hasArguments = current == "("
            let (positional, named) = hasArguments ? try arguments() : ([], [])
            return try layerObject(spelled, positional: positional, named: named, at: start, topLevel: topLevel)
        }

        func layerObject(_ spelled: String, positional: [Any], named: [(String, Any, Int)], at start: Int,
                         topLevel: Bool) throws -> [String: Any] {
            if let (type, keys) = registry.layerType(spelled: spelled) {
                guard positional.count <= keys.count else {
                    throw error("\(spelled) takes at most \(keys.count) positional argument\(keys.count == 1 ? "" : "s")"
                                + (keys.isEmpty ? "" : " (\(keys.joined(separator: ", ")))") + ", got \(positional.count)", at: start)
                }
                var object: [String: Any] = ["type": type]
                for (key, value) in zip(keys, positional) { object[key] = value }
                for (given, value, column) in named {
                    let key = registry.configurationKey(given, of: type)
                    guard object[key] == nil else { throw error("\(spelled): \(key) is given twice", at: column) }
                    object[key] = value
                }
                try requireKnownKeys(object, named: named, spelled: spelled)
                return object
            }
            let lower = spelled.lowercased()
            if lower.hasPrefix("bi"), lower.count > 2, registry.layerType(spelled: String(spelled.dropFirst(2))) != nil {
                let inner = try layerObject(String(spelled.dropFirst(2)), positional: positional, named: named, at: start,
                                            topLevel: false)
                return ["type": Bidirectional.typeName, "layer": inner]
            }
            if topLevel, positional.isEmpty, named.isEmpty, Activation(rawValue: lower) != nil,
               let (type, keys) = registry.layerType(spelled: "activation"), let key = keys.first {
                return ["type": type, key: lower]
            }
            throw error("unknown layer \"\(ModelSpec.quoted(spelled))\" (known: \(registry.layerTypes.joined(separator: ", ")); "
                        + "bi<layer> for bidirectional; an activation's name alone)", at: start)
        }

        /// `( value, …, key = value, … )`, the opening parenthesis at the current position.
        mutating func arguments() throws -> ([Any], [(String, Any, Int)]) {
            try expect("(", "")
            try enter()
            defer { depth -= 1 }
            var positional: [Any] = [], named: [(String, Any, Int)] = []
            skipSpaces()
            if current == ")" {
                position += 1
                return ([], [])
            }
            while true {
                skipSpaces()
                let start = column
                // `key = value` or a value.
                let mark = position
                if let c = current, c.isLetter, let key = try? name() {
                    skipSpaces()
                    if current == "=" || current == ":" {
                        position += 1
                        named.append((key, try value(), start))
                    } else if key.lowercased() == "seq", current == "," || current == ")" {
                        // `gru(128, seq)`: a recurrent layer returning every step's output.
                        named.append(("return_sequences", true, start))
                    } else if position > mark + key.count, let c = current, c.isNumber || c == "[" {
                        // `stride 2`: a key and its value with a space between.
                        named.append((key, try value(), start))
                    } else {
                        // Positional arguments fill the layer's positional keys in their order,
                        // wherever they stand among key=value ones (`conv(24, 5x5, stride 2, relu)`).
                        position = mark
                        positional.append(try value())
                    }
                } else {
                    positional.append(try value())
                }
                skipSpaces()
                if current == "," {
                    position += 1
                    continue
                }
                try expect(")", "or ',' after an argument")
                return (positional, named)
            }
        }

        mutating func value() throws -> Any {
            skipSpaces()
            guard let c = current else { throw error("expected a value, found the end") }
            if c == "[" {
                position += 1
                try enter()
                defer { depth -= 1 }
                var list: [Any] = []
                skipSpaces()
                if current == "]" {
                    position += 1
                    return list
                }
                while true {
                    list.append(try value())
                    skipSpaces()
                    if current == "," {
                        position += 1
                        continue
                    }
                    try expect("]", "or ',' in a list")
                    return list
                }
            }
            if c.isNumber || c == "-" || c == "+" || c == "." { return try number() }
            let start = column
            let word = try name()
            skipSpaces()
            if current == "(" {
                // A layer inside a layer (`bidirectional(lstm(8))`), or an object such as an initializer.
                if namesLayer(word) {
                    position = start - 1
                    return try layer(topLevel: false)
                }
                let (positional, named) = try arguments()
                guard positional.isEmpty else { throw error("\(word)(…) takes key=value arguments only", at: start) }
                var object: [String: Any] = ["type": word]
                for (key, value, column) in named {
                    guard object[key] == nil else {
                        throw error(key == "type" ? "\(word)(…) names its type already" : "\(word): \(key) is given twice", at: column)
                    }
                    object[key] = value
                }
                return object
            }
            // A layer named without arguments (`timedistributed(flatten)`); activations stay names.
            if namesLayer(word), Activation(rawValue: word.lowercased()) == nil {
                position = start - 1
                return try layer(topLevel: false)
            }
            switch word {
            case "true": return true
            case "false": return false
            case "classes":
                guard let classes else { throw error("'classes' needs a data set to count them", at: start) }
                return classes
            default: return word
            }
        }

        mutating func number() throws -> Any {
            let start = position
            while let c = current, c.isNumber || "+-.eE".contains(c) { position += 1 }
            // `5x5` (or `5×5`, `2x2x2`): a size, the list [5, 5].
            if let c = current, c == "x" || c == "×", position + 1 < text.count, text[position + 1].isNumber,
               let first = Int(String(text[start..<position])) {
                var sizes = [first]
                while let c = current, c == "x" || c == "×", position + 1 < text.count, text[position + 1].isNumber {
                    position += 1
                    let digits = position
                    while let d = current, d.isNumber { position += 1 }
                    guard let size = Int(String(text[digits..<position])) else {
                        throw error("'\(String(text[start..<position]))' is not a size such as 5x5", at: start + 1)
                    }
                    sizes.append(size)
                }
                return sizes
            }
            let literal = String(text[start..<position])
            if let integer = Int(literal) { return integer }
            if let real = Double(literal), real.isFinite { return real }
            throw error("'\(literal)' is not a number", at: start + 1)
        }

        /// Throws for a `key=value` that the layer's configuration does not have (a typo such as
        /// `activaton=relu` would otherwise be ignored): the keys are those the layer made from
        /// `object` writes back. A configuration that does not decode is left to ``describe(_:at:)``.
        func requireKnownKeys(_ object: [String: Any], named: [(String, Any, Int)], spelled: String) throws {
            guard !named.isEmpty, let type = object["type"] as? String,
                  let data = try? JSONSerialization.data(withJSONObject: object),
                  let layer = try? registry.decoder().decode(LayerDescription.self, from: data).makeLayer() else { return }
            let keys = SettingNames.of(layer.configuration)
            for (given, _, column) in named where !keys.contains(registry.configurationKey(given, of: type)) {
                throw error("\(spelled) has no setting \(ModelSpec.quoted(given)) (its settings: \(keys.joined(separator: ", ")))", at: column)
            }
        }

        /// Decodes `object` through the registry and makes the layer once, so that every
        /// configuration error is reported here with the layer's column.
        func describe(_ object: [String: Any], at column: Int) throws -> LayerDescription {
            let type = object["type"] as? String ?? "layer"
            do {
                let data = try JSONSerialization.data(withJSONObject: object)
                let description = try registry.decoder().decode(LayerDescription.self, from: data)
                _ = try description.makeLayer()
                return description
            } catch let error as ShapeError {
                throw self.error(error.description, at: column)
            } catch let error as DecodingError {
                throw self.error("\(type): \(ModelSpec.explain(error))", at: column)
            }
        }
    }

    /// What a configuration that does not decode lacks or has wrong, in a spec's words.
    static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).filter { !$0.isEmpty }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let inner = path(context)
            return "missing \(inner.isEmpty ? "" : inner + ".")\(key.stringValue)"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let expected = type == Int.self ? "a whole number" : type == Float.self ? "a number"
                : type == Bool.self ? "true or false" : type == String.self ? "a name"
                : type == [String: Any].self ? "name(key=value, …)" : type == [Any].self ? "a list" : "\(type)"
            return "\(path(context)): expected \(expected)"
        case .dataCorrupted(let context):
            // Foundation's words for a number its type cannot hold (1e300 as a 32-bit float, 0.5 as a whole number).
            if context.debugDescription.contains("not valid JSON") {
                let at = path(context)
                return (at.isEmpty ? "a number" : at + ":") + " does not fit its setting (a 32-bit float is within "
                    + "±3.4e38; counts and indices are whole numbers)"
            }
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// A loss or optimizer as a spec names it: `name(key=value, …)`, each setting with its column.
struct SettingsCall {
    let spelled: String
    let column: Int
    let settings: [(key: String, value: Any, column: Int)]

    /// What `object` (the settings, under the registered `type`) decodes to as `T`, made into
    /// a `U` (a loss, an optimizer), every error a ``ModelSpecError`` at the call's column; each of
    /// the call's settings must be among the result's `keys`.
    func decode<T: Decodable, U>(_: T.Type, _ object: [String: Any], type: String, registry: ModuleRegistry,
                                 subject: String, make: (T) throws -> U, keys: (U) -> [String]) throws -> U {
        func failure(_ message: String, at column: Int) -> ModelSpecError {
            ModelSpecError(column: column, message: message, subject: subject)
        }
        let value: U
        do {
            value = try make(try registry.decoder().decode(T.self, from: try JSONSerialization.data(withJSONObject: object)))
        } catch let error as ShapeError {
            throw failure(error.description, at: column)
        } catch let error as DecodingError {
            throw failure("\(type): \(ModelSpec.explain(error))", at: column)
        }
        let known = keys(value)
        for (key, _, column) in settings where !known.contains(key) {
            throw failure("\(type) has no setting \(ModelSpec.quoted(key)) (" + (known.isEmpty ? "it has none)" : "its settings: \(known.joined(separator: ", ")))"),
                          at: column)
        }
        return value
    }
}

/// A model spec that cannot be read: where (1-based column) and what was expected.
public struct ModelSpecError: Error, CustomStringConvertible, Equatable {
    public let column: Int
    public let message: String
    /// What the text was: a model spec, or a loss.
    public var subject = "model spec"
    public var description: String { "\(subject), column \(column): \(message)" }
}
