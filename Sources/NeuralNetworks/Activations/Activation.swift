/// Element-wise activation functions (and softmax, which works on the last axis).
public enum Activation: String, Sendable, CaseIterable, Codable {
    case linear
    case relu
    case sigmoid
    /// Keras 2's `clip(0.2·x + 0.5, 0, 1)`, the reference experiment's gate activation.
    /// (Keras 3's `hard_sigmoid` is a different function, relu6(x + 3) / 6.)
    case hardSigmoid = "hard_sigmoid"
    case tanh
    case softmax

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
        }
    }

    /// The derivative expressed through the function's output `y` (all of these allow it),
    /// so backward passes keep outputs only.
    @inline(__always)
    func derivative(output y: Vector) -> Vector {
        switch self {
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

    /// `dx = dy · f'(x)` from the forward output `y`; `dx` may alias `dy`.
    func backward(output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                  inputGradient dx: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        if self == .softmax {
            Softmax.backward(output: y, outputGradient: dy, inputGradient: dx, rows: rows, width: width)
        } else {
            VectorMath.zipMap(y, dy, dx, count: rows * width) { y, dy in dy * derivative(output: y) }
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
