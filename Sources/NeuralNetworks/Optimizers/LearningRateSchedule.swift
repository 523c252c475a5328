import Foundation

/// How the learning rate changes with the update count `t` (0-based), for any optimizer.
/// Formulas of Keras 2 / PyTorch:
///
/// - `timeDecay(d)`: `lr / (1 + d·t)` (Keras 2's `decay`, the reference experiment's)
/// - `step(every: n, factor: γ)`: `lr · γ^⌊t / n⌋` (PyTorch `StepLR`, counted in updates)
/// - `exponential(rate: r, steps: n)`: `lr · r^(t / n)` (Keras `ExponentialDecay`)
/// - `cosine(steps: n, minimum: m)`: `m + (lr − m)(1 + cos(π·min(t, n)/n)) / 2` (`CosineDecay`)
/// - `warmup(steps: w, then: s)`: `lr · t / w` for t < w, then `s` from t − w (Keras 3's
///   `CosineDecay(warmup_steps=w)` from 0, Hugging Face's `get_cosine_schedule_with_warmup`):
///   attention models train badly from a full rate at the first updates
public enum LearningRateSchedule: Codable, Sendable, Equatable {
    case constant
    case timeDecay(Float)
    case step(every: Int, factor: Float)
    case exponential(rate: Float, steps: Int)
    case cosine(steps: Int, minimum: Float)
    indirect case warmup(steps: Int, then: LearningRateSchedule)

    public func learningRate(base: Float, iteration t: Int) -> Float {
        switch self {
        case .constant: return base
        case .timeDecay(let d): return base / (1 + d * Float(t))
        case .step(let n, let gamma): return base * Float(Foundation.pow(Double(gamma), Double(t / n)))
        case .exponential(let rate, let n): return base * Float(Foundation.pow(Double(rate), Double(t) / Double(n)))
        case .cosine(let n, let minimum):
            let progress = Double(min(t, n)) / Double(n)
            return minimum + (base - minimum) * Float((1 + _cos(Double.pi * progress)) / 2)
        case .warmup(let w, let then):
            return t < w ? base * Float(t) / Float(w) : then.learningRate(base: base, iteration: t - w)
        }
    }

    /// Throws ``ShapeError`` for settings that give no sensible rate.
    public func validate() throws {
        switch self {
        case .constant: return
        case .timeDecay(let d):
            guard d.isFinite, d >= 0 else { throw ShapeError("decay must be finite and ≥ 0, got \(d)") }
        case .step(let n, let gamma):
            guard n > 0, gamma.isFinite, gamma > 0 else { throw ShapeError("step schedule needs every > 0 and factor > 0") }
        case .exponential(let rate, let n):
            guard n > 0, rate.isFinite, rate > 0 else { throw ShapeError("exponential schedule needs steps > 0 and rate > 0") }
        case .cosine(let n, let minimum):
            guard n > 0, minimum.isFinite, minimum >= 0 else { throw ShapeError("cosine schedule needs steps > 0 and minimum ≥ 0") }
        case .warmup(let w, let then):
            guard w > 0 else { throw ShapeError("warmup needs steps > 0, got \(w)") }
            if case .warmup = then { throw ShapeError("a warmup is followed by another schedule, not a second warmup") }
            try then.validate()
        }
    }

    private enum Keys: String, CodingKey { case type, decay, every, factor, rate, steps, minimum, then }

    /// The settings of each type, in the order an error lists them.
    private static let settings: [String: [Keys]] = [
        "constant": [], "time_decay": [.decay], "step": [.every, .factor], "exponential": [.rate, .steps],
        "cosine": [.steps, .minimum], "warmup": [.steps, .then],
    ]

    /// `{"type": "step", "every": 1000, "factor": 0.5}` and so on; the type names are
    /// `constant`, `time_decay`, `step`, `exponential`, `cosine`, `warmup` (`{"type": "warmup",
    /// "steps": 500, "then": {…}}`), in any case, `-` for `_`; `"constant"` alone is the constant
    /// rate. A setting the type does not have is an error (a typo would otherwise be dropped).
    public init(from decoder: Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            guard Self.folded(name) == "constant" else {
                throw ShapeError("schedule \"\(name.prefix(40))\": write it with its settings, as constant, time_decay(decay=D), "
                                 + "step(every=N, factor=F), exponential(rate=R, steps=N), cosine(steps=N, minimum=M) "
                                 + "or warmup(steps=N, then=…)")
            }
            self = .constant
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        let type = Self.folded(try c.decode(String.self, forKey: .type))
        guard let settings = Self.settings[type] else {
            throw ShapeError("unknown learning-rate schedule \"\(type.prefix(40))\" (constant, time_decay, step, exponential, cosine, warmup)")
        }
        for key in try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        where key != "type" && !settings.map(\.rawValue).contains(key) {
            let names = settings.isEmpty ? "it has none" : "its settings: " + settings.map(\.rawValue).joined(separator: ", ")
            throw ShapeError("a \(type) schedule has no setting \(key.prefix(40)) (\(names))")
        }
        switch type {
        case "constant": self = .constant
        case "time_decay": self = .timeDecay(try c.decode(Float.self, forKey: .decay))
        case "step": self = .step(every: try c.decode(Int.self, forKey: .every), factor: try c.decode(Float.self, forKey: .factor))
        case "exponential": self = .exponential(rate: try c.decode(Float.self, forKey: .rate), steps: try c.decode(Int.self, forKey: .steps))
        case "cosine": self = .cosine(steps: try c.decode(Int.self, forKey: .steps), minimum: try c.decodeIfPresent(Float.self, forKey: .minimum) ?? 0)
        case "warmup": self = .warmup(steps: try c.decode(Int.self, forKey: .steps), then: try c.decode(Self.self, forKey: .then))
        default: preconditionFailure("a schedule type in `settings` without its case: \(type)")
        }
        try validate()
    }

    private static func folded(_ name: String) -> String { name.lowercased().replacingOccurrences(of: "-", with: "_") }

    /// Any key of a JSON object, to find those a schedule does not have.
    private struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .constant: try c.encode("constant", forKey: .type)
        case .timeDecay(let d): try c.encode("time_decay", forKey: .type); try c.encode(d, forKey: .decay)
        case .step(let n, let gamma):
            try c.encode("step", forKey: .type); try c.encode(n, forKey: .every); try c.encode(gamma, forKey: .factor)
        case .exponential(let rate, let n):
            try c.encode("exponential", forKey: .type); try c.encode(rate, forKey: .rate); try c.encode(n, forKey: .steps)
        case .cosine(let n, let minimum):
            try c.encode("cosine", forKey: .type); try c.encode(n, forKey: .steps); try c.encode(minimum, forKey: .minimum)
        case .warmup(let w, let then):
            try c.encode("warmup", forKey: .type); try c.encode(w, forKey: .steps); try c.encode(then, forKey: .then)
        }
    }
}
