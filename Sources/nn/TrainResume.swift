import ArgumentParser
import Foundation
import NeuralNetworks

/// How `nn train` settles its settings: a new run from the preset and the flags; a resumed run from
/// its checkpoint, where a flag given is accepted when it equals the run's own value and refused,
/// naming both, when it differs.
extension Train {
    func newSettings() throws -> RunSettings {
        let preset = Preset.named(self.preset ?? Preset.reference.name)!
        var dataFlags = self.dataFlags
        if dataFlags.lines == nil, let lines = preset.lines { dataFlags.lines = "\(lines.train),\(lines.test)" }
        let loss = try self.loss.map(parsedLoss) ?? parsedLoss(preset.loss)
        dataFlags = dataFlags.reading(for: loss.typeName)
        return RunSettings(
            data: absolutePath(data ?? DataFlags.defaultData), dataFlags: dataFlags, validationSplit: validationSplit,
            normalize: normalize ?? .none, preset: preset,
            model: try modelSource(preset) ?? .spec(preset.model), loss: loss,
            optimizer: try optimizerDescription(preset, always: true)!, batchSize: batchSize ?? preset.batchSize,
            shuffle: shuffle ?? preset.shuffle, seed: seed ?? 0, clipNorm: clipNorm ?? preset.clipNorm, clipValue: clipValue,
            precision: precision ?? .float32, device: device ?? .cpu, trainLimit: trainLimit, testLimit: testLimit, classes: classes,
            earlyStopping: patience.map { EarlyStopping(patience: $0, minDelta: minDelta ?? 0) },
            plateau: try reduceLrOnPlateau.map(ReduceLearningRateOnPlateau.init(flag:)))
    }

    func resumedSettings(_ checkpoint: Checkpoint, path: String) throws -> RunSettings {
        let saved = checkpoint.settings
        let invalid = CommandError("\(path): the checkpoint's run settings are missing or invalid")
        func number<T: LosslessStringConvertible>(_ key: String) throws -> T? {
            guard let text = saved[key] else { return nil }
            guard let value = T(text) else { throw invalid }
            return value
        }
        guard let data = saved["data"], let batch: Int = try number("batch_size"), batch > 0,
              let seed: UInt64 = try number("seed") else { throw invalid }
        let savedClipNorm: Float? = try number("clip_norm"), savedClipValue: Float? = try number("clip_value")
        let trainLimit: Int? = try number("train_limit"), testLimit: Int? = try number("test_limit")
        let savedClasses: Int? = try number("classes")
        guard [savedClipNorm, savedClipValue].allSatisfy({ $0.map { $0.isFinite && $0 > 0 } ?? true }),
              [trainLimit, testLimit].allSatisfy({ ($0 ?? 1) > 0 }) else { throw invalid }
        // Checkpoints written before presets, losses and --shuffle were the reference experiment's.
        let preset = Preset.named(saved["preset"] ?? Preset.reference.name) ?? Preset.reference
        guard let savedLoss = checkpointLoss(saved["loss"] ?? CategoricalCrossEntropy.typeName) else { throw invalid }
        let savedShuffle = saved["shuffle"].map { $0 == "true" } ?? true
        let savedPrecision = saved["precision"].flatMap(Precision.init(rawValue:)) ?? .float32
        guard let savedDevice = ComputeDevice(rawValue: saved["device"] ?? ComputeDevice.cpu.rawValue) else { throw invalid }
        if let device, device != savedDevice {
            // Allowed (a checkpoint may move to a machine without a GPU), but no longer bit for bit.
            FileHandle.standardError.write(Data(("nn: note: the run trained with --device \(savedDevice.rawValue) and "
                + "continues with --device \(device.rawValue): its losses may differ from an uninterrupted run's in "
                + "the last digits\n").utf8))
        }

        func same<T: Equatable>(_ flag: String, _ given: T?, _ saved: T, _ show: (T) -> String = { "\($0)" }) throws {
            guard let given, given != saved else { return }
            throw CommandError("\(flag) \(show(given)) differs from the run's own \(show(saved)) (\(path)): drop it to "
                               + "continue that run, or start a new one")
        }
        try same("--batch-size", batchSize, batch)
        try same("--seed", self.seed, seed)
        try same("--train-limit", trainLimit.map { Optional($0) }, trainLimit) { $0.map(String.init) ?? "all" }
        try same("--test-limit", testLimit.map { Optional($0) }, testLimit) { $0.map(String.init) ?? "all" }
        try same("--precision", precision, savedPrecision) { $0.rawValue }
        try same("--shuffle", shuffle, savedShuffle) { $0 ? "on" : "off" }
        try same("--clip-value", clipValue.map { Optional($0) }, savedClipValue) { $0.map { "\($0)" } ?? "none" }
        if let given = try self.loss.map(parsedLoss), checkpointText(of: given) != checkpointText(of: savedLoss) {
            throw CommandError("--loss \(given.specText) differs from the run's own \(savedLoss.specText) (\(path)): drop it to "
                               + "continue that run, or start a new one")
        }
        try same("--classes", classes.map { Optional($0) }, savedClasses) { $0.map(String.init) ?? "(none: the classes came from the labels)" }
        try same("--preset", self.preset, preset.name)
        let savedSplit: Double? = try number("validation_split")
        try same("--validation-split", validationSplit.map { Optional($0) }, savedSplit) { $0.map { "\($0)" } ?? "none" }
        let savedPatience: Int? = try number("patience"), savedMinDelta: Float? = try number("min_delta")
        guard (savedPatience ?? 0) >= 0, (savedMinDelta ?? 0) >= 0, savedMinDelta?.isFinite ?? true else { throw invalid }
        try same("--patience", patience.map { Optional($0) }, savedPatience) { $0.map(String.init) ?? "none" }
        try same("--min-delta", minDelta.map { Optional($0) }, savedPatience == nil ? nil : savedMinDelta ?? 0) {
            $0.map { "\($0)" } ?? "none"
        }
        let savedPlateau = try saved["reduce_lr_on_plateau"].map { text in
            do { return try ReduceLearningRateOnPlateau(flag: text) } catch { throw invalid }
        }
        try same("--reduce-lr-on-plateau", try reduceLrOnPlateau.map { Optional(try ReduceLearningRateOnPlateau(flag: $0)) },
                 savedPlateau) { $0?.flagText ?? "none" }
        let savedNormalize = InputNormalization(rawValue: saved["normalize"] ?? "none") ?? .none
        try same("--normalize", normalize, savedNormalize) { $0.rawValue }
        let savedFlags = try dataFlags.resumed(from: saved, path: path)
        var runModel = checkpoint.model.layerDescriptions
        // --normalize put its layer before the model's own (see `Train.run`).
        let normalizing = [InputNormalization.standardize: Normalization.typeName, .scale: Rescaling.typeName][savedNormalize]
        if let normalizing, runModel.first?.type == normalizing { runModel.removeFirst() }
        if let source = try modelSource(preset) {
            // Described again from layers, so that defaults left out of a spec are written out as in the file.
            let given = try source.layers(classes: checkpoint.model.outputShape.last ?? 1).map { LayerDescription(try $0.makeLayer()) }
            if (try? canonicalJSON(given)) != (try? canonicalJSON(runModel)) {
                throw CommandError("the model of --model/--units/--recurrent-activation differs from the run's own (\(path)): "
                                   + "drop those flags to continue that run, or start a new one")
            }
        }
        let described: OptimizerDescription?
        do { described = try optimizerDescription(preset, always: false, running: checkpoint.optimizer) } catch let error as ValidationError {
            throw CommandError("\(error.message) (\(path))")
        }
        if let described,
           let difference = try optimizerDifference(described.makeOptimizer(), checkpoint.optimizer) {
            throw CommandError("the optimizer flags give \(difference) (\(path)): drop them to continue that run")
        }
        return RunSettings(
            data: absolutePath(self.data ?? data), dataFlags: savedFlags, validationSplit: savedSplit,
            normalize: savedNormalize, preset: preset, model: .spec(preset.model), loss: savedLoss,
            optimizer: nil, batchSize: batch, shuffle: savedShuffle, seed: seed,
            clipNorm: clipNorm ?? savedClipNorm, clipValue: savedClipValue, precision: savedPrecision,
            device: device ?? savedDevice, trainLimit: trainLimit, testLimit: testLimit, classes: savedClasses,
            earlyStopping: savedPatience.map { EarlyStopping(patience: $0, minDelta: savedMinDelta ?? 0) },
            plateau: savedPlateau)
    }

    /// `--data`, `--labels` and `--lengths` may name the run's files by other paths (a copy, on
    /// another machine) when they hold the same training samples (and test samples, for
    /// checkpoints that keep their fingerprint).
    func checkSameData(_ checkpoint: Checkpoint, _ trainSet: Dataset, _ testSet: Dataset?, path: String) throws {
        let saved = checkpoint.settings
        let named = [("--data", data.map(absolutePath), absolutePath(saved["data"] ?? "")),
                     ("--labels", dataFlags.labels.map(absolutePath), saved["labels"] ?? ""),
                     ("--lengths", try dataFlags.parsedLengths()?.joined(separator: ","), saved["lengths"] ?? "")]
        let moved = named.filter { $0.1 != nil && $0.1 != $0.2 }
        guard !moved.isEmpty else { return }
        let sameTest = try saved["test_fingerprint"].map { $0 == (try testSet?.fingerprint()) } ?? true
        guard let fingerprint = saved["data_fingerprint"], fingerprint == (try trainSet.fingerprint()), sameTest else {
            let given = moved.map { "\($0.0) \($0.1!)" }.joined(separator: ", ")
            let own = moved.map(\.2).joined(separator: ", ")
            throw CommandError("\(given) do\(moved.count == 1 ? "es" : "") not hold the run's own samples "
                               + "(\(own), \(path)): drop \(moved.map(\.0).joined(separator: " and ")), or name copies of the same files")
        }
    }

    /// How `given` differs from the run's own optimizer, setting by setting (`learning_rate 0.5
    /// where the run has 0.1`); nil where it does not.
    func optimizerDifference(_ given: any Optimizer, _ own: any Optimizer) throws -> String? {
        guard given.typeName == own.typeName else { return "\(given.typeName) where the run has \(own.typeName)" }
        func settings(_ optimizer: any Optimizer) throws -> [String: String] {
            try optimizerObject(optimizer).mapValues { value in
                (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
        let (a, b) = (try settings(given), try settings(own))
        let differing = Set(a.keys).union(b.keys).sorted().filter { a[$0] != b[$0] }
        guard !differing.isEmpty else { return nil }
        return differing.map { "\($0) \(a[$0] ?? "none") where the run has \(b[$0] ?? "none")" }.joined(separator: ", ")
    }

    /// An optimizer's type and hyperparameters as JSON values, without its iteration count.
    func optimizerObject(_ optimizer: any Optimizer) throws -> [String: Any] {
        var object = try jsonValue(OptimizerDescription(optimizer)) as? [String: Any] ?? [:]
        object["iterations"] = nil
        return object
    }

    /// The same as canonical JSON text.
    func optimizerSettings(_ optimizer: any Optimizer) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: optimizerObject(optimizer), options: [.sortedKeys]), as: UTF8.self)
    }
}
