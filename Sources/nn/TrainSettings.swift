import ArgumentParser
import Foundation
import NeuralNetworks

/// What one `nn train` run trains with, resolved from (in order of precedence) the flags given,
/// the checkpoint being resumed, the preset, and the defaults. Stored in checkpoints as strings,
/// so that a resumed run continues with exactly its own settings.
struct RunSettings {
    var data: String
    /// How the data is read (NumPy targets, CSV target column, array names, image size).
    var dataFlags: DataFlags
    var validationSplit: Double?
    var normalize: InputNormalization
    var preset: Preset
    /// A model spec, or the layers of a --model JSON file.
    var model: ModelSource
    var loss: Loss
    /// The optimizer of a new run; nil when resuming (the checkpoint holds the run's own).
    var optimizer: OptimizerDescription?
    var batchSize: Int
    var shuffle: Bool
    var seed: UInt64
    var clipNorm: Float?
    var clipValue: Float?
    var precision: Precision
    /// Where it computes: kept so that a resumed run continues where it ran (the same losses,
    /// bit for bit, only there).
    var device: ComputeDevice
    var trainLimit: Int?
    var testLimit: Int?
    /// The class count given with --classes (nil: one more than the largest training label).
    var classes: Int?
    /// Early stopping (--patience, --min-delta), which a resumed run keeps deciding by.
    var earlyStopping: EarlyStopping?
    /// Lowering the learning rate on a plateau (--reduce-lr-on-plateau), which a resumed run keeps.
    var plateau: ReduceLearningRateOnPlateau?

    enum ModelSource {
        case spec(String)
        case file(String, [LayerDescription], inputShape: [Int]?)

        func layers(classes: Int) throws -> [LayerDescription] {
            switch self {
            case .spec(let text): return try ModelSpec.layers(text, classes: classes)
            case .file(_, let layers, _): return layers
            }
        }
    }

    /// The strings a checkpoint keeps (the model and optimizer travel as themselves).
    var stored: [String: String] {
        var s = ["data": data, "batch_size": "\(batchSize)", "seed": "\(seed)", "precision": precision.rawValue,
                 "loss": checkpointText(of: loss), "shuffle": "\(shuffle)", "preset": preset.name]
        if device != .cpu { s["device"] = device.rawValue }
        if let clipNorm { s["clip_norm"] = "\(clipNorm)" }
        if let clipValue { s["clip_value"] = "\(clipValue)" }
        if let trainLimit { s["train_limit"] = "\(trainLimit)" }
        if let testLimit { s["test_limit"] = "\(testLimit)" }
        if let classes { s["classes"] = "\(classes)" }
        if let validationSplit { s["validation_split"] = "\(validationSplit)" }
        if normalize != .none { s["normalize"] = normalize.rawValue }
        if let earlyStopping { (s["patience"], s["min_delta"]) = ("\(earlyStopping.patience)", "\(earlyStopping.minDelta)") }
        if let plateau { s["reduce_lr_on_plateau"] = plateau.flagText }
        return s.merging(dataFlags.stored) { own, _ in own }
    }
}

/// The optimizer `--optimizer` names: a registered optimizer or alias, with its settings
/// (`sgd`, `adamw(weight_decay=0.05)`, `adam(beta_2=0.98)`).
func parsedOptimizer(_ flag: String) throws -> OptimizerSpec {
    do { return try OptimizerSpec(flag) } catch let error as ModelSpecError {
        throw ValidationError("--optimizer, column \(error.column): \(error.message)")
    }
}

extension LearningRateSchedule {
    /// `constant`, `time-decay:D`, `step:EVERY:FACTOR`, `exponential:RATE:STEPS`, `cosine:STEPS[:MINIMUM]`,
    /// any of those after `warmup:STEPS,` (or `warmup:STEPS` alone, then constant); steps count updates.
    /// Errors quote `whole`, the flag as given (the text after a warmup is parsed on its own).
    init(flag text: String, within whole: String? = nil) throws {
        let shown = whole ?? text
        if text.hasPrefix("warmup:") {
            let (head, rest) = text.firstIndex(of: ",").map { (text[..<$0], String(text[text.index(after: $0)...])) } ?? (text[...], "constant")
            guard let steps = Int(head.dropFirst("warmup:".count).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--schedule \(shown): expected a step count after 'warmup:'")
            }
            let next = rest.trimmingCharacters(in: .whitespaces)
            guard !next.isEmpty else { throw ValidationError("--schedule \(shown): expected a schedule after '\(head),'") }
            self = .warmup(steps: steps, then: try LearningRateSchedule(flag: next, within: shown))
            do { try validate() } catch { throw ValidationError("--schedule \(shown): \(error)") }
            return
        }
        let parts = text.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
        func number<T: LosslessStringConvertible>(_ index: Int, _ what: String) throws -> T {
            guard index < parts.count, let value = T(parts[index]) else {
                throw ValidationError("--schedule \(shown): expected \(what) after '\(parts[0]):'")
            }
            return value
        }
        switch parts.first ?? "" {
        case "constant": self = .constant
        case "time-decay": self = .timeDecay(try number(1, "a decay"))
        case "step": self = .step(every: try number(1, "a step count"), factor: try number(2, "a factor"))
        case "exponential": self = .exponential(rate: try number(1, "a rate"), steps: try number(2, "a step count"))
        case "cosine": self = .cosine(steps: try number(1, "a step count"), minimum: parts.count > 2 ? try number(2, "a minimum") : 0)
        default:
            throw ValidationError("--schedule must be constant, time-decay:D, step:N:F, exponential:R:N or cosine:N[:MIN], "
                                  + "optionally after warmup:N, (warmup:500,cosine:9000); got \(shown)")
        }
        do { try validate() } catch { throw ValidationError("--schedule \(shown): \(error)") }
    }
}

/// The loss `--loss` names: a type name or alias, `-` or `_` alike, with its settings
/// (`huber(delta=2)`, `categorical-crossentropy(label_smoothing=0.1)`, `mse`).
func parsedLoss(_ flag: String) throws -> Loss {
    do { return try Loss(spec: flag) } catch let error as ModelSpecError {
        throw ValidationError("--loss, column \(error.column): \(error.message)")
    }
}

/// A loss as a checkpoint keeps it: its type and every setting, as JSON (older checkpoints hold
/// the type name alone, which reads as the loss's defaults); nil for neither.
func checkpointText(of loss: Loss) -> String { (try? canonicalJSON(loss)) ?? loss.typeName }
func checkpointLoss(_ text: String) -> Loss? {
    let json = text.hasPrefix("{") ? text : #"{"type":"\#(text)"}"#
    return try? ModuleRegistry.standard.decoder().decode(Loss.self, from: Data(json.utf8))
}

/// An absolute, standardised path (a checkpoint keeps its data directory so, and works from any folder).
func absolutePath(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}

/// `value` as JSONSerialization holds it (a schedule as `{"type": "cosine", …}`): a setting of an
/// optimizer spec given by a flag.
func jsonValue<T: Encodable>(_ value: T) throws -> Any {
    try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: .fragmentsAllowed)
}
