import Foundation

/// Normalises each position's features to mean 0 and variance 1, then scales and shifts them
/// (Keras `LayerNormalization` over the last axis, PyTorch `nn.LayerNorm`):
/// `y = γ ⊙ (x − μ) / √(σ² + ε) + β`, with μ and σ² (population) of that position's own values,
/// so it needs no batch statistics and behaves alike in training and inference.
///
/// Backward, per position of width w, with x̂ the normalised values and g = dy ⊙ γ:
/// `dx = (g − mean(g) − x̂ · mean(g ⊙ x̂)) / √(σ² + ε)`, `dγ += Σ dy ⊙ x̂`, `dβ += Σ dy`.
public final class LayerNormalization: Layer {
    public static let typeName = "LayerNormalization"
    public static let specAliases = ["layernorm"]
    public static let positionalKeys = ["epsilon"]
    public var name = "layer_normalization"
    /// Added to the variance (Keras' default 1e-3; PyTorch's is 1e-5).
    public let epsilon: Float
    public private(set) var gamma: Parameter!
    public private(set) var beta: Parameter!
    public var needsInputGradient = true
    private var width = 0
    private var normalized = Tensor(zeros: [0])
    private var inverseDeviation: [Float] = []

    public init(epsilon: Float = 1e-3) {
        precondition(epsilon.isFinite && epsilon > 0, "LayerNormalization needs a positive epsilon")
        self.epsilon = epsilon
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var epsilon: Float?
    }
    public var configuration: Configuration { Configuration(epsilon: epsilon) }
    public convenience init(configuration: Configuration) throws {
        let epsilon = configuration.epsilon ?? 1e-3
        guard epsilon.isFinite && epsilon > 0 else { throw ShapeError("LayerNormalization needs a positive epsilon, got \(epsilon)") }
        self.init(epsilon: epsilon)
    }

    public var parameters: [Parameter] { [gamma, beta].compactMap { $0 } }

    /// Each position's own statistics: the padding of padded sequences stays apart.
    public func passesPaddedSequences() -> Bool { true }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else {
            throw ShapeError("\(name): LayerNormalization needs inputs with a feature axis, got shape \(inputShape)")
        }
        width = last
        gamma = try context.parameter("gamma", shape: [width], initializer: .ones)
        beta = try context.parameter("beta", shape: [width], initializer: .zeros)
        return inputShape
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(input.shape.last == width, "\(name): input \(input.shape) does not end in \(width)")
        let rows = input.count / width
        inverseDeviation = [Float](repeating: 0, count: rows)
        var xhat = Tensor(zeros: input.shape)
        let output = Tensor(shape: input.shape) { y in
            input.scalars.withUnsafeBufferPointer { x in
                xhat.scalars.withUnsafeMutableBufferPointer { n in
                    for row in 0..<rows {
                        let start = row * width
                        // In Double: a row of large values loses no variance to cancellation.
                        var sum = 0.0, squares = 0.0
                        for k in 0..<width { sum += Double(x[start + k]) }
                        let mean = sum / Double(width)
                        for k in 0..<width { squares += (Double(x[start + k]) - mean) * (Double(x[start + k]) - mean) }
                        let inverse = 1 / (squares / Double(width) + Double(epsilon)).squareRoot()
                        inverseDeviation[row] = Float(inverse)
                        for k in 0..<width {
                            n[start + k] = Float((Double(x[start + k]) - mean) * inverse)
                            y[start + k] = gamma.value[k] * n[start + k] + beta.value[k]
                        }
                    }
                }
            }
        }
        normalized = xhat
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(outputGradient.shape == normalized.shape, "\(name): gradient shape \(outputGradient.shape)")
        let rows = outputGradient.count / width
        var inputGradient = needsInputGradient ? Tensor(zeros: outputGradient.shape) : Tensor(zeros: [0])
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            normalized.scalars.withUnsafeBufferPointer { n in
                inputGradient.scalars.withUnsafeMutableBufferPointer { dx in
                    for row in 0..<rows {
                        let start = row * width
                        var meanG: Float = 0, meanGN: Float = 0
                        for k in 0..<width {
                            let g = dy[start + k] * gamma.value[k]
                            meanG += g
                            meanGN += g * n[start + k]
                            gamma.gradient[k] += dy[start + k] * n[start + k]
                            beta.gradient[k] += dy[start + k]
                        }
                        guard !dx.isEmpty else { continue }
                        (meanG, meanGN) = (meanG / Float(width), meanGN / Float(width))
                        for k in 0..<width {
                            let g = dy[start + k] * gamma.value[k]
                            dx[start + k] = (g - meanG - n[start + k] * meanGN) * inverseDeviation[row]
                        }
                    }
                }
            }
        }
        return inputGradient
    }
}

extension LayerNormalization: PyTorchConvertible {
    /// `nn.LayerNorm(width, eps)`: weight = γ, bias = β.
    public func pyTorchModules() throws -> [PyTorchModule] {
        [PyTorchModule("nn.LayerNorm(\(width), eps=\(epsilon))",
                       tensors: [PyTorchTensor("weight", gamma), PyTorchTensor("bias", beta)])]
    }
}
