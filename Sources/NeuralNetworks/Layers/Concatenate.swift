/// Parallel branches on the same input, their outputs joined along the last axis (an Inception
/// block, Keras' `Concatenate` of branches). A branch of several layers is a ``Chain``.
/// Backward: each branch gets its slice of the gradient; their input gradients add up.
public final class Concatenate: Layer {
    public static let typeName = "Concatenate"
    public static let positionalKeys = ["branches"]
    public var name = "concatenate"
    public let branches: [any Layer]
    public var needsInputGradient = true {
        didSet { for branch in branches { branch.needsInputGradient = needsInputGradient } }
    }
    private var widths: [Int] = []
    /// Each branch's output shape (one sample), from the last build.
    private(set) var branchShapes: [[Int]] = []
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

    public init(_ branches: [any Layer]) {
        precondition(branches.count >= 2, "concatenate needs at least two branches")
        self.branches = branches
        LayerNames.assign(branches)
    }

    public convenience init(@LayerBuilder _ branches: () -> [any Layer]) { self.init(branches()) }

    public struct Configuration: Codable, Sendable { public var branches: [LayerDescription] }
    public var configuration: Configuration { Configuration(branches: branches.map { LayerDescription($0) }) }
    public convenience init(configuration: Configuration) throws {
        guard configuration.branches.count >= 2 else { throw ShapeError("concatenate needs at least two branches") }
        self.init(try configuration.branches.map { try $0.makeLayer() })
    }

    public var children: [(name: String, layer: any Layer)] { branches.map { ($0.name, $0) } }

    /// Every branch's check: each reads the input.
    public func checkInput(_ input: Tensor) throws { for branch in branches { try branch.checkInput(input) } }

    /// Each branch as it takes them; the joined output keeps padded steps if any branch does.
    public func passesPaddedSequences() throws -> Bool {
        try branches.map { try $0.passesPaddedSequences() }.contains(true)
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        let shapes = try branches.map { try $0.build(inputShape: inputShape, context: &context) }
        let leading = shapes.map { Array($0.dropLast()) }
        guard shapes.allSatisfy({ !$0.isEmpty }), leading.allSatisfy({ $0 == leading[0] }) else {
            throw ShapeError("\(name): branches output \(shapes), which differ before the last axis")
        }
        widths = shapes.map { $0.last! }
        branchShapes = shapes
        return leading[0] + [widths.reduce(0, +)]
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        backend = context.backend
        let outputs = branches.map { $0.forward(input, context: context) }
        let total = widths.reduce(0, +), rows = outputs[0].count / widths[0]
        var result = Tensor(zeros: Array(outputs[0].shape.dropLast()) + [total])
        var offset = 0
        for (output, width) in zip(outputs, widths) {
            for row in 0..<rows {
                for j in 0..<width { result.scalars[row * total + offset + j] = output.scalars[row * width + j] }
            }
            offset += width
        }
        return result
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let total = widths.reduce(0, +), rows = outputGradient.count / total
        var inputGradient: Tensor?
        var offset = 0
        for (branch, width) in zip(branches, widths) {
            var slice = Tensor(zeros: Array(outputGradient.shape.dropLast()) + [width])
            for row in 0..<rows {
                for j in 0..<width { slice.scalars[row * width + j] = outputGradient.scalars[row * total + offset + j] }
            }
            let gradient = branch.backward(slice)
            if needsInputGradient {
                if inputGradient == nil { inputGradient = gradient } else { backend.add(gradient, into: &inputGradient!) }
            }
            offset += width
        }
        return inputGradient ?? Tensor(zeros: [0])
    }
}

extension Concatenate: PyTorchConvertible {
    /// `Concatenate(branch, …)`, each branch an `nn.Sequential`: tensors `branches.1.0.weight`.
    public func pyTorchModules() throws -> [PyTorchModule] {
        let parts = try branches.map { try PyTorchModule.sequential([$0]) }
        var module = PyTorchModule("Concatenate(\n" + parts.map { PyTorchModule.indent($0.code) }.joined(separator: ",\n")
            + ")", helpers: ["Concatenate": """
            class Concatenate(nn.Module):
                \"\"\"Parallel branches on the same input, joined along the last axis.\"\"\"
                def __init__(self, *branches):
                    super().__init__()
                    self.branches = nn.ModuleList(branches)

                def forward(self, x):
                    return torch.cat([branch(x) for branch in self.branches], dim=-1)
            """])
        for (index, part) in parts.enumerated() { module.include(part, under: "branches.\(index).") }
        return [module]
    }
}
