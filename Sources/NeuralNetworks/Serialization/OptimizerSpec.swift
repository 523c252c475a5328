import Foundation

/// An optimizer written in one line, as `nn train --optimizer` takes it: a registered optimizer's
/// name in any case, `_` or `-` optional (`adam`, `SGD`, `rmsprop`), or an alias (`adamw`), with
/// settings as in a model spec under its configuration's names:
///
///     sgd(learning_rate=0.1, momentum=0.9, nesterov=true)
///     adamw(weight_decay=0.05)
///     adam(beta_2=0.98, schedule=cosine(steps=9000))
///
/// A setting the spec leaves out takes, first found: the alias's (`adamw`: decoupled weight decay
/// 0.01), one given beneath the spec (`nn train`: the preset's, for the preset's own optimizer),
/// the optimizer's ``Optimizer/specDefaults``. A setting the optimizer lacks is an error naming
/// those it has. Nothing here names an optimizer: every one in the registry can be written.
public struct OptimizerSpec {
    /// The registered type the name stands for (`Adam` for `adamw`).
    public let type: String
    /// The name as the registry spells it: the type name in lower case, or the alias (`adamw`).
    public let name: String
    private let call: SettingsCall
    private let implied: [String: Any]
    private let registry: ModuleRegistry

    /// Reads `text`; throws ``ModelSpecError`` (subject "optimizer") naming the column.
    public init(_ text: String, registry: ModuleRegistry = .standard) throws {
        call = try ModelSpec.settingsCall(text, subject: "optimizer",
                                          example: "an optimizer, such as sgd or adam(learning_rate=0.01)", registry: registry)
        guard let (type, alias) = registry.optimizerType(spelled: call.spelled) else {
            throw ModelSpecError(column: call.column, message: "unknown optimizer \"\(ModelSpec.quoted(call.spelled))\" (known: "
                                 + registry.optimizerSpellings.joined(separator: ", ") + ")", subject: "optimizer")
        }
        self.type = type
        name = alias?.name ?? type.lowercased()
        self.registry = registry
        implied = try alias.map { alias in
            let settings = try ModelSpec.settingsCall("\(alias.name)(\(alias.settings))", subject: "optimizer alias",
                                                      example: "", registry: registry).settings
            return Dictionary(settings.map { ($0.key, $0.value) }) { _, last in last }
        } ?? [:]
    }

    /// The settings the spec itself gives, by configuration key, as JSON values.
    public var settings: [String: Any] { Dictionary(call.settings.map { ($0.key, $0.value) }) { _, last in last } }

    /// The settings the optimizer has (its configuration's keys); nil for one without
    /// ``Optimizer/specDefaults``, whose settings are known once a spec gives them all.
    public var settingNames: [String]? {
        let defaults = registry.optimizerDefaults(of: type)
        let unchecked = SettingsCall(spelled: call.spelled, column: call.column, settings: [])
        guard !defaults.isEmpty, let optimizer = try? make(defaults, checking: unchecked) else { return nil }
        return SettingNames.of(optimizer.configuration)
    }

    /// A new optimizer (no updates made): the settings `beneath` under the alias's and the spec's
    /// own, and `over` above every other (`nn train`'s flags, which it checks the spec does not
    /// give as well). Throws ``ModelSpecError`` for a setting the optimizer lacks or a value it refuses.
    public func makeOptimizer(beneath: [String: Any] = [:], over: [String: Any] = [:]) throws -> any Optimizer {
        var object = registry.optimizerDefaults(of: type)
        for layer in [beneath, implied, settings, over] { object.merge(layer) { _, new in new } }
        let optimizer = try make(object, checking: call)
        let known = SettingNames.of(optimizer.configuration)
        for key in Set(beneath.keys).union(over.keys).sorted() where !known.contains(key) {
            throw ModelSpecError(column: call.column, message: "\(type) has no setting \(ModelSpec.quoted(key)) (its settings: "
                                 + known.joined(separator: ", ") + ")", subject: "optimizer")
        }
        return optimizer
    }

    /// The optimizer of `settings`, every error a ``ModelSpecError`` at the spec's name, and
    /// `call`'s settings each one it has.
    private func make(_ settings: [String: Any], checking call: SettingsCall) throws -> any Optimizer {
        let object = settings.merging(["type": type, "iterations": 0]) { _, own in own }
        return try call.decode(OptimizerDescription.self, object, type: type, registry: registry, subject: "optimizer",
                               make: { try $0.makeOptimizer() }) { SettingNames.of($0.configuration) }
    }
}
