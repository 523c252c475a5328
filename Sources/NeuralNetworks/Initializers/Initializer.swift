/// How a parameter's first values are drawn (Keras names and definitions).
///
/// `fanIn`/`fanOut` are the kernel's rows and columns (Keras layout: inputs × outputs), times the
/// window's size for a convolution kernel `[kh, kw, in, out]`.
public enum Initializer: Sendable, Equatable {
    case zeros
    case ones
    case constant(Float)
    case randomUniform(low: Float = -0.05, high: Float = 0.05)
    case randomNormal(mean: Float = 0, standardDeviation: Float = 0.05)
    /// Uniform in ±√(6 / (fanIn + fanOut)).
    case glorotUniform
    /// Truncated normal with σ = √(2 / (fanIn + fanOut)) (Keras divides by .8796 for the truncation).
    case glorotNormal
    /// Uniform in ±√(6 / fanIn).
    case heUniform
    /// Truncated normal with σ = √(2 / fanIn).
    case heNormal
    /// A matrix with orthonormal rows (or columns, whichever are fewer), times `gain`.
    case orthogonal(gain: Float = 1)

    /// Values for a parameter of `shape`; a 1-D shape has fanIn = fanOut = its length.
    public func values(shape: [Int], generator: inout RandomGenerator) -> [Float] {
        let count = shape.reduce(1, *)
        // A convolution kernel [kh, kw, in, out] counts its window in both fans, as Keras.
        let window = shape.count > 2 ? shape.dropLast(2).reduce(1, *) : 1
        let fanIn = shape.count >= 2 ? window * shape[shape.count - 2] : count
        let fanOut = window * (shape.last ?? 1)
        func draw(_ f: (inout RandomGenerator) -> Double) -> [Float] {
            (0..<count).map { _ in Float(f(&generator)) }
        }
        switch self {
        case .zeros: return [Float](repeating: 0, count: count)
        case .ones: return [Float](repeating: 1, count: count)
        case .constant(let value): return [Float](repeating: value, count: count)
        case .randomUniform(let low, let high):
            return draw { $0.uniform(Double(low), Double(high)) }
        case .randomNormal(let mean, let sd):
            return draw { $0.normal(mean: Double(mean), standardDeviation: Double(sd)) }
        case .glorotUniform:
            let limit = (6 / Double(fanIn + fanOut)).squareRoot()
            return draw { $0.uniform(-limit, limit) }
        case .glorotNormal:
            let sd = (2 / Double(fanIn + fanOut)).squareRoot() / 0.87962566103423978
            return draw { $0.truncatedNormal(standardDeviation: sd) }
        case .heUniform:
            let limit = (6 / Double(fanIn)).squareRoot()
            return draw { $0.uniform(-limit, limit) }
        case .heNormal:
            let sd = (2 / Double(fanIn)).squareRoot() / 0.87962566103423978
            return draw { $0.truncatedNormal(standardDeviation: sd) }
        case .orthogonal(let gain):
            return Self.orthogonal(rows: fanIn, columns: fanOut, gain: Double(gain), generator: &generator)
        }
    }

    /// Keras' recipe: QR of a normal matrix with the longer side first, signs fixed by diag(R),
    /// transposed to rows × columns. QR by modified Gram–Schmidt in Double.
    static func orthogonal(rows: Int, columns: Int, gain: Double, generator: inout RandomGenerator) -> [Float] {
        let long = max(rows, columns), short = min(rows, columns)
        // `short` vectors of length `long`, orthonormalised in turn.
        var q = (0..<short).map { _ in (0..<long).map { _ in generator.normal() } }
        for j in 0..<short {
            for i in 0..<j {
                let dot = zip(q[i], q[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for k in 0..<long { q[j][k] -= dot * q[i][k] }
            }
            let norm = q[j].reduce(0) { $0 + $1 * $1 }.squareRoot()
            // diag(R) = norm > 0, so the sign correction is already +1.
            for k in 0..<long { q[j][k] /= norm }
        }
        var result = [Float](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                // Orthonormal vectors become rows when rows ≤ columns, columns otherwise.
                let value = rows <= columns ? q[r][c] : q[c][r]
                result[r * columns + c] = Float(gain * value)
            }
        }
        return result
    }
}

/// Keras' names: `"glorot_uniform"` for an initializer without settings, an object with its
/// settings otherwise (`{"type": "random_uniform", "low": -0.01, "high": 0.01}`); both are read.
extension Initializer: Codable {
    private enum Keys: String, CodingKey { case type, value, low, high, mean, stddev, gain }

    public var typeName: String {
        switch self {
        case .zeros: return "zeros"
        case .ones: return "ones"
        case .constant: return "constant"
        case .randomUniform: return "random_uniform"
        case .randomNormal: return "random_normal"
        case .glorotUniform: return "glorot_uniform"
        case .glorotNormal: return "glorot_normal"
        case .heUniform: return "he_uniform"
        case .heNormal: return "he_normal"
        case .orthogonal: return "orthogonal"
        }
    }

    public init(from decoder: Decoder) throws {
        let type: String
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            type = name
        } else {
            type = try decoder.container(keyedBy: Keys.self).decode(String.self, forKey: .type)
        }
        func number(_ key: Keys, _ otherwise: Float) throws -> Float {
            guard let c = try? decoder.container(keyedBy: Keys.self), let value = try c.decodeIfPresent(Float.self, forKey: key) else {
                return otherwise
            }
            guard value.isFinite else { throw ShapeError("initializer \(type): \(key.rawValue) must be finite") }
            return value
        }
        switch type {
        case "zeros": self = .zeros
        case "ones": self = .ones
        case "constant": self = .constant(try number(.value, 0))
        case "random_uniform":
            let (low, high) = (try number(.low, -0.05), try number(.high, 0.05))
            guard low <= high else { throw ShapeError("initializer random_uniform: low \(low) is above high \(high)") }
            self = .randomUniform(low: low, high: high)
        case "random_normal":
            let sd = try number(.stddev, 0.05)
            guard sd >= 0 else { throw ShapeError("initializer random_normal: stddev must be ≥ 0") }
            self = .randomNormal(mean: try number(.mean, 0), standardDeviation: sd)
        case "glorot_uniform": self = .glorotUniform
        case "glorot_normal": self = .glorotNormal
        case "he_uniform": self = .heUniform
        case "he_normal": self = .heNormal
        case "orthogonal": self = .orthogonal(gain: try number(.gain, 1))
        default:
            throw ShapeError("unknown initializer \"\(type)\" (zeros, ones, constant, random_uniform, random_normal, "
                             + "glorot_uniform, glorot_normal, he_uniform, he_normal, orthogonal)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .zeros, .ones, .glorotUniform, .glorotNormal, .heUniform, .heNormal:
            var c = encoder.singleValueContainer()
            try c.encode(typeName)
        case .constant(let value):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(typeName, forKey: .type)
            try c.encode(value, forKey: .value)
        case .randomUniform(let low, let high):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(typeName, forKey: .type)
            try c.encode(low, forKey: .low)
            try c.encode(high, forKey: .high)
        case .randomNormal(let mean, let sd):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(typeName, forKey: .type)
            try c.encode(mean, forKey: .mean)
            try c.encode(sd, forKey: .stddev)
        case .orthogonal(let gain):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(typeName, forKey: .type)
            try c.encode(gain, forKey: .gain)
        }
    }
}
