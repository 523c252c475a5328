import ArgumentParser
import Foundation
import NeuralNetworks

/// `--reduce-lr-on-plateau PATIENCE[,factor=F,min_delta=D,cooldown=N,min_lr=LR]`: Keras'
/// `ReduceLROnPlateau` settings in its own names, each but the patience optional (Keras' defaults).
extension ReduceLearningRateOnPlateau {
    static let flagHelp = "PATIENCE[,factor=F][,min_delta=D][,cooldown=N][,min_lr=LR]"

    init(flag text: String) throws {
        func invalid(_ why: String) -> ValidationError {
            ValidationError("--reduce-lr-on-plateau takes \(Self.flagHelp), e.g. 5,factor=0.5 (\(why)); got \(text)")
        }
        var settings: [String: String] = [:]
        for (index, part) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { String($0).trimmingCharacters(in: .whitespaces) }
            // The first part may be the patience alone; every other part is key=value.
            let (key, value) = pair.count == 2 ? (pair[0], pair[1]) : index == 0 ? ("patience", pair[0]) : (pair[0], "")
            guard ["patience", "factor", "min_delta", "cooldown", "min_lr"].contains(key) else {
                throw invalid("\(key.isEmpty ? "an empty setting" : key) is not one of patience, factor, min_delta, cooldown, min_lr")
            }
            guard settings[key] == nil else { throw invalid("\(key) given twice") }
            settings[key] = value
        }
        func integer(_ key: String, _ fallback: Int) throws -> Int {
            guard let text = settings[key] else { return fallback }
            if text.isEmpty && key == "patience" { throw invalid("the patience comes first") }
            guard let value = Int(text), (0...1_000_000).contains(value) else { throw invalid("\(key) must be in 0...1000000") }
            return value
        }
        func number(_ key: String, _ fallback: Float, _ range: String, _ fits: (Float) -> Bool) throws -> Float {
            guard let text = settings[key] else { return fallback }
            guard let value = Float(text), value.isFinite, fits(value) else { throw invalid("\(key) must be \(range)") }
            return value
        }
        guard settings["patience"] != nil else { throw invalid("the patience comes first") }
        try self.init(factor: try number("factor", 0.1, "in (0, 1)") { $0 > 0 && $0 < 1 }, patience: try integer("patience", 10),
                      minDelta: try number("min_delta", 1e-4, "a number ≥ 0") { $0 >= 0 }, cooldown: try integer("cooldown", 0),
                      minimumLearningRate: try number("min_lr", 0, "a number ≥ 0") { $0 >= 0 })
    }

    /// Every setting written out, as checkpoints keep it.
    var flagText: String {
        "\(patience),factor=\(factor),min_delta=\(minDelta),cooldown=\(cooldown),min_lr=\(minimumLearningRate)"
    }
}
