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
    /// Threads the products may run on (the backend splits their rows where that pays).
    public var threads = 1 {
        didSet { precondition(threads >= 1, "\(name): threads must be at least 1") }
    }

    private var inputWidth = 0
    private var lastInput = Tensor(zeros: [0])
    /// Pre-activation outputs of the last forward pass (the logits, for a softmax layer).
    public private(set) var lastLogits = Tensor(zeros: [0])
    private var lastOutput = Tensor(zeros: [0])
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

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

    /// Step by step (each step of a sequence through the same weights): padding steps stay padding.
    public func passesPaddedSequences() -> Bool { true }

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
        backend = context.backend
        let rows = input.count / inputWidth
        // Every value is written: the bias rows, then the product adds to them (or sets them).
        let logits = Tensor(shape: Array(input.shape.dropLast()) + [units]) { z in
            input.scalars.withUnsafeBufferPointer { x in
                backend.affine(x.baseAddress!, rows: rows, kernel: kernel, bias: bias, into: z, threads: threads)
            }
        }
        lastInput = input
        lastLogits = logits
        lastOutput = backend.activate(activation, logits, threads: threads)
        return lastOutput
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        backward(logitsGradient: backend.activationGradient(activation, input: lastLogits, output: lastOutput,
                                                            outputGradient: outputGradient, threads: threads))
    }

    /// Backward from the gradient with respect to the pre-activation outputs: the entry point
    /// of a loss fused with this layer's softmax.
    public func backward(logitsGradient: Tensor) -> Tensor {
        precondition(logitsGradient.shape == lastLogits.shape, "\(name): gradient shape \(logitsGradient.shape)")
        let rows = logitsGradient.count / units
        // dW += xᵀ · dz, db += Σ dz, and dx = dz · Wᵀ when asked (every value written).
        func backward(into dx: UnsafeMutablePointer<Float>?) {
            logitsGradient.scalars.withUnsafeBufferPointer { dz in
                lastInput.scalars.withUnsafeBufferPointer { x in
                    backend.affineBackward(x.baseAddress!, dz.baseAddress!, rows: rows, kernel: kernel, bias: bias,
                                           inputGradient: dx, threads: threads)
                }
            }
        }
        guard needsInputGradient else {
            backward(into: nil)
            return Tensor(zeros: [0])
        }
        return Tensor(shape: lastInput.shape) { backward(into: $0) }
    }
}

extension Dense: PyTorchConvertible {
    /// `nn.Linear(in, out)` (weight = kernelᵀ) and the activation's module.
    public func pyTorchModules() throws -> [PyTorchModule] {
        var tensors = [PyTorchTensor("weight", kernel, layout: .transposed)]
        if let bias { tensors.append(PyTorchTensor("bias", bias)) }
        let linear = PyTorchModule("nn.Linear(\(inputWidth), \(units)\(useBias ? "" : ", bias=False"))", tensors: tensors)
        return [linear] + [activation.pyTorchModule].compactMap { $0 }
    }
}
