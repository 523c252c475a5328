import Foundation

/// Element-wise activation functions (and softmax, which works on the last axis).
public enum Activation: String, Sendable, NamedSetting {
    case linear
    case relu
    case sigmoid
    /// Keras 2's `clip(0.2·x + 0.5, 0, 1)`, the reference experiment's gate activation.
    /// (Keras 3's `hard_sigmoid` is a different function, relu6(x + 3) / 6.)
    case hardSigmoid = "hard_sigmoid"
    case tanh
    case softmax
    /// `x` for x > 0, `eˣ − 1` otherwise (α = 1, Keras' and PyTorch's default).
    case elu
    /// `x` for x > 0, `0.01·x` otherwise (PyTorch's default slope).
    case leakyRelu = "leaky_relu"
    /// GELU in its tanh form, `x/2 · (1 + tanh(√(2/π)(x + 0.044715x³)))` (PyTorch `approximate="tanh"`).
    case gelu
    /// `log(1 + eˣ)`.
    case softplus
    /// `x · σ(x)` (also called SiLU).
    case swish

    /// Whether the derivative can be computed from the output alone (what recurrent layers need:
    /// they keep activated values only). GELU and swish need their input.
    public var derivativeFromOutput: Bool { self != .gelu && self != .swish }

    static let leakySlope: Float = 0.01
    private static let geluScale: Float = 0.797_884_56  // √(2/π)
    private static let geluCubic: Float = 0.044_715

    /// Applies the function to one vector of lanes (softmax excluded: it is not element-wise).
    @inline(__always)
    func apply(_ x: Vector) -> Vector {
        switch self {
        case .linear: return x
        case .relu: return VectorMath.maximum(x, 0)
        case .sigmoid: return VectorMath.sigmoid(x)
        case .hardSigmoid: return VectorMath.hardSigmoid(x)
        case .tanh: return VectorMath.tanh(x)
        case .softmax: preconditionFailure("softmax is not element-wise")
        case .elu: return (VectorMath.exp(VectorMath.minimum(x, 0)) - 1).replacing(with: x, where: x .> 0)
        case .leakyRelu: return (Self.leakySlope * x).replacing(with: x, where: x .> 0)
        case .gelu:
            let inner: Vector = Self.geluScale * (x + Self.geluCubic * x * x * x)
            return 0.5 * x * (1 + VectorMath.tanh(inner))
        case .softplus:
            // max(x, 0) + log(1 + e^−|x|): exact for large |x| either way.
            let tail = VectorMath.exp(-VectorMath.maximum(x, 0) + VectorMath.minimum(x, 0))
            var log1p = Vector()
            for lane in 0..<Vector.scalarCount { log1p[lane] = Foundation.log1p(tail[lane]) }
            return VectorMath.maximum(x, 0) + log1p
        case .swish: return x * VectorMath.sigmoid(x)
        }
    }

    /// The derivative from the function's input `x` and output `y`; only `y` is read when
    /// ``derivativeFromOutput`` (then `x` may be anything).
    @inline(__always)
    func derivative(input x: Vector, output y: Vector) -> Vector {
        switch self {
        case .gelu:
            let square: Vector = x * x
            let inner: Vector = Self.geluScale * (x + Self.geluCubic * square * x)
            let t: Vector = VectorMath.tanh(inner)
            let slope: Vector = Self.geluScale * (1 + (3 * Self.geluCubic) * square)
            let half: Vector = 0.5 * (1 + t)
            return half + (0.5 * x) * (1 - t * t) * slope
        case .swish:
            let s = VectorMath.sigmoid(x)
            return s + y * (1 - s)
        default: return derivative(output: y)
        }
    }

    /// The derivative expressed through the function's output `y`, for the functions that allow it
    /// (``derivativeFromOutput``), so that recurrent layers keep outputs only.
    @inline(__always)
    func derivative(output y: Vector) -> Vector {
        switch self {
        case .elu: return (y + 1).replacing(with: 1, where: y .> 0)
        case .leakyRelu: return Vector(repeating: Self.leakySlope).replacing(with: 1, where: y .> 0)
        case .softplus: return 1 - VectorMath.exp(-y)
        case .gelu, .swish: preconditionFailure("\(rawValue)'s derivative needs its input")
        case .linear: return Vector(repeating: 1)
        case .relu: return Vector(repeating: 0).replacing(with: 1, where: y .> 0)
        case .sigmoid: return y * (1 - y)
        case .hardSigmoid: return Vector(repeating: 0).replacing(with: 0.2, where: (y .> 0) .& (y .< 1))
        case .tanh: return 1 - y * y
        case .softmax: preconditionFailure("softmax has a full Jacobian; use Softmax.backward")
        }
    }

    /// `y = f(x)` over a batch whose last axis has `width` entries.
    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        if self == .softmax {
            Softmax.forward(x, y, rows: rows, width: width)
        } else {
            VectorMath.map(x, y, count: rows * width) { apply($0) }
        }
    }

    /// `dx = dy · f'(x)` from the forward input `x` and output `y`; `dx` may alias `dy`.
    func backward(input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                  inputGradient dx: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        if self == .softmax {
            Softmax.backward(output: y, outputGradient: dy, inputGradient: dx, rows: rows, width: width)
        } else if derivativeFromOutput {
            VectorMath.zipMap(y, dy, dx, count: rows * width) { y, dy in dy * derivative(output: y) }
        } else {
            var i = 0
            let n = rows * width
            while i < n {
                let k = min(Vector.scalarCount, n - i)
                let d = derivative(input: VectorMath.load(x + i, count: k), output: VectorMath.load(y + i, count: k))
                VectorMath.store(VectorMath.load(dy + i, count: k) * d, dx + i, count: k)
                i += Vector.scalarCount
            }
        }
    }
}

/// Softmax along the last axis, computed stably (max subtracted first).
enum Softmax {
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            let xr = x + row * width, yr = y + row * width
            var largest = -Float.infinity
            for j in 0..<width { largest = max(largest, xr[j]) }
            VectorMath.map(xr, yr, count: width) { VectorMath.exp($0 - largest) }
            var sum: Float = 0
            for j in 0..<width { sum += yr[j] }
            let scale = 1 / sum
            for j in 0..<width { yr[j] *= scale }
        }
    }

    /// `dx = y ⊙ (dy − ⟨dy, y⟩)`, the softmax Jacobian applied to `dy`.
    static func backward(output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                         inputGradient dx: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            let yr = y + row * width, dyr = dy + row * width, dxr = dx + row * width
            var dot: Float = 0
            for j in 0..<width { dot += dyr[j] * yr[j] }
            for j in 0..<width { dxr[j] = yr[j] * (dyr[j] - dot) }
        }
    }
}
