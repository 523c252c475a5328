/// A fully connected layer, `y = activation(x · kernel + bias)` (Keras `Dense`).
///
/// `kernel` is inputs × units (Keras layout; PyTorch's `Linear.weight` is its transpose).
/// Inputs of rank > 1 are treated as a batch of their last axis, as Keras does.
public final class Dense: OutputActivationLayer, ThreadedLayer {
    public static let typeName = "Dense"
    public var name = "dense"
    public let units: Int
    public let activation: Activation
    public let useBias: Bool
    public let kernelInitializer: Initializer
    public let biasInitializer: Initializer
    public private(set) var kernel: Parameter!
    public private(set) var bias: Parameter?
    public var needsInputGradient = true
    /// Threads the products run on: the batch's rows (forward, input gradient) or the kernel's
    /// columns (kernel gradient) split into contiguous parts, each a single-threaded product.
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    private var inputWidth = 0
    private var lastInput = Tensor(zeros: [0])
    /// Pre-activation outputs of the last forward pass (the logits, for a softmax layer).
    public private(set) var lastLogits = Tensor(zeros: [0])
    private var lastOutput = Tensor(zeros: [0])

    public init(units: Int, activation: Activation = .linear, useBias: Bool = true,
                kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros) {
        precondition(units > 0, "Dense needs at least one unit")
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
    }

    public struct Configuration: Codable, Sendable, Equatable {
        public var units: Int
        public var activation: Activation?
        public var useBias: Bool?
        public var kernelInitializer: Initializer?
        public var biasInitializer: Initializer?
        enum CodingKeys: String, CodingKey {
            case units, activation, useBias = "use_bias"
            case kernelInitializer = "kernel_initializer", biasInitializer = "bias_initializer"
        }
    }

    public static let positionalKeys = ["units", "activation"]

    public var configuration: Configuration {
        Configuration(units: units, activation: activation, useBias: useBias, kernelInitializer: kernelInitializer,
                      biasInitializer: biasInitializer)
    }

    public convenience init(configuration c: Configuration) throws {
        guard c.units > 0 else { throw ShapeError("Dense needs at least one unit, got \(c.units)") }
        self.init(units: c.units, activation: c.activation ?? .linear, useBias: c.useBias ?? true,
                  kernelInitializer: c.kernelInitializer ?? .glorotUniform, biasInitializer: c.biasInitializer ?? .zeros)
    }

    public var parameters: [Parameter] { [kernel].compactMap { $0 } + [bias].compactMap { $0 } }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard let width = inputShape.last, width > 0 else {
            throw ShapeError("\(name): Dense needs inputs with a last axis, got shape \(inputShape)")
        }
        inputWidth = width
        kernel = try context.parameter("kernel", shape: [width, units], initializer: kernelInitializer)
        bias = useBias ? try context.parameter("bias", shape: [units], initializer: biasInitializer) : nil
        return Array(inputShape.dropLast()) + [units]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        2 * inputShape.dropLast().reduce(1, *) * inputWidth * units
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        precondition(input.shape.last == inputWidth, "\(name): input \(input.shape) does not end in \(inputWidth)")
        let rows = input.count / inputWidth
        let outputShape = Array(input.shape.dropLast()) + [units]
        var logits = Tensor(zeros: outputShape)
        let (inputWidth, units, kernel) = (inputWidth, units, kernel!)
        let bias = self.bias
        logits.scalars.withUnsafeMutableBufferPointer { zBuffer in
            input.scalars.withUnsafeBufferPointer { xBuffer in
                let z = zBuffer.baseAddress!, x = xBuffer.baseAddress!
                let parts = Parallel.split(rows, into: workers(rows))
                Parallel.forEach(parts.count) { part in
                    let range = parts[part], zr = z + range.lowerBound * units
                    if let bias {
                        for row in 0..<range.count { (zr + row * units).update(from: bias.value, count: units) }
                    }
                    BLAS.gemm(m: range.count, n: units, k: inputWidth, a: x + range.lowerBound * inputWidth, lda: inputWidth,
                              b: kernel.value, ldb: units, beta: bias == nil ? 0 : 1, c: zr, ldc: units)
                }
            }
        }
        let output = activation.forward(logits)
        lastInput = input
        lastLogits = logits
        lastOutput = output
        return output
    }

    /// Threads worth waking for a product over `rows` rows: one part per 2^20 multiply-adds at
    /// least (the reference model's 256 → 10 layer stays on one thread).
    private func workers(_ rows: Int) -> Int {
        min(threads, max(1, rows * inputWidth * units >> 20))
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        var logitsGradient = outputGradient
        if activation != .linear {
            logitsGradient = activation.backward(input: lastLogits, output: lastOutput, outputGradient: outputGradient)
        }
        return backward(logitsGradient: logitsGradient)
    }

    /// Backward from the gradient with respect to the pre-activation outputs: the entry point
    /// of a loss fused with this layer's softmax.
    public func backward(logitsGradient: Tensor) -> Tensor {
        precondition(logitsGradient.shape == lastLogits.shape, "\(name): gradient shape \(logitsGradient.shape)")
        let rows = logitsGradient.count / units
        var inputGradient = Tensor(zeros: needsInputGradient ? lastInput.shape : [0])
        let (inputWidth, units, kernel, threads) = (inputWidth, units, kernel!, workers(rows))
        logitsGradient.scalars.withUnsafeBufferPointer { dzBuffer in
            let dz = dzBuffer.baseAddress!
            lastInput.scalars.withUnsafeBufferPointer { xBuffer in
                let x = xBuffer.baseAddress!
                // dW = xᵀ · dz, the kernel's columns split over threads.
                let columns = Parallel.split(units, into: threads)
                Parallel.forEach(columns.count) { part in
                    let range = columns[part]
                    BLAS.gemm(transposeA: true, m: inputWidth, n: range.count, k: rows, a: x, lda: inputWidth,
                              b: dz + range.lowerBound, ldb: units, beta: 1, c: kernel.gradient + range.lowerBound, ldc: units)
                }
            }
            if let bias { ColumnSum.add(dz, rows: rows, width: units, into: bias.gradient) }
            guard needsInputGradient else { return }
            inputGradient.scalars.withUnsafeMutableBufferPointer { dxBuffer in
                // dx = dz · Wᵀ, the batch's rows split over threads.
                let dx = dxBuffer.baseAddress!, parts = Parallel.split(rows, into: threads)
                Parallel.forEach(parts.count) { part in
                    let range = parts[part]
                    BLAS.gemm(transposeB: true, m: range.count, n: inputWidth, k: units, a: dz + range.lowerBound * units,
                              lda: units, b: kernel.value, ldb: units, beta: 0, c: dx + range.lowerBound * inputWidth,
                              ldc: inputWidth)
                }
            }
        }
        return inputGradient
    }
}

enum ColumnSum {
    /// `into[j] += Σ_row m[row, j]`: the bias gradient.
    static func add(_ m: UnsafePointer<Float>, rows: Int, width: Int, into sum: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            VectorMath.zipMap(sum, m + row * width, sum, count: width) { $0 + $1 }
        }
    }
}
