import Foundation

/// A layer that has an equivalent in PyTorch: the `torch.nn` modules it becomes inside a
/// `torch.nn.Sequential`, and where each of its parameters is in their `state_dict`. One
/// declaration serves both directions: ``Sequential/pyTorchExport(weightsFile:)`` writes the tensors and the
/// Python that builds the model; ``Sequential/init(pyTorch:file:architecture:)``
/// reads them back. Conform in the layer's own file; a layer that does not conform is a clear
/// error on export or import, nothing else.
public protocol PyTorchConvertible: Layer {
    /// The modules, in order, once built. Throws ``ShapeError`` for a configuration PyTorch cannot
    /// run the same way (an LSTM cell activation other than tanh).
    func pyTorchModules() throws -> [PyTorchModule]
}

/// One `torch.nn` module: the Python expression that makes it, its `state_dict` entries, and the
/// helper classes the expression needs (for what `torch.nn` lacks, such as Keras 2's hard sigmoid).
public struct PyTorchModule {
    public var code: String
    public var tensors: [PyTorchTensor]
    /// Class name → Python source, written once at the top of the exported file.
    public var helpers: [String: String]

    public init(_ code: String, tensors: [PyTorchTensor] = [], helpers: [String: String] = [:]) {
        (self.code, self.tensors, self.helpers) = (code, tensors, helpers)
    }

    /// `nn.Sequential` of `layers`' modules: tensors named `0.weight`, `2.bias`, …
    public static func sequential(_ layers: [any Layer]) throws -> PyTorchModule {
        var modules: [PyTorchModule] = []
        for layer in layers {
            guard let convertible = layer as? any PyTorchConvertible else {
                throw ShapeError("\(layer.name) (\(layer.typeName)) has no PyTorch equivalent: it does not conform to PyTorchConvertible")
            }
            modules += try convertible.pyTorchModules()
        }
        var result = PyTorchModule("nn.Sequential(\n" + modules.map { indent($0.code) + ",\n" }.joined() + ")")
        for (index, module) in modules.enumerated() { result.include(module, under: "\(index).") }
        return result
    }

    /// Takes in `part`, a module inside this one, as its attribute `prefix` (`body.`, `0.`): its
    /// tensors named under the prefix, its helper classes beside this one's.
    public mutating func include(_ part: PyTorchModule, under prefix: String) {
        tensors += part.tensors.map { $0.prefixed(prefix) }
        helpers.merge(part.helpers) { first, _ in first }
    }

    static func indent(_ code: String) -> String {
        code.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }
}

/// Where one `state_dict` entry comes from: a parameter, as it is or transposed (PyTorch's
/// `Linear.weight` is out × in, our `Dense.kernel` in × out). Several entries may add up to one
/// parameter (PyTorch's LSTM has two biases where we have one): the one that `carriesValue` is
/// exported with the value, the others as zeros, and importing adds them all. A recurrent
/// layer's gates may be packed in another order than PyTorch's (a GRU's z, r, h against r, z, n):
/// `blockOrder` lists, for each of PyTorch's equal blocks of the last axis (before transposing),
/// which of ours it is.
public struct PyTorchTensor {
    /// Ours as it is, a matrix transposed, or the axes permuted (PyTorch's axis i is our `axes[i]`:
    /// a convolution kernel [kh, kw, in, out] is nn.Conv2d's [out, in, kh, kw] by [3, 2, 0, 1]).
    /// Axes of size 1 may be left out (Conv1D's [1, k, in, out] is nn.Conv1d's [out, in, k] by [3, 2, 1]).
    public enum Layout: Sendable, Equatable { case same, transposed, permuted([Int]) }
    public var name: String
    public var parameter: Parameter
    public var layout: Layout
    public var carriesValue: Bool
    public var blockOrder: [Int]?

    public init(_ name: String, _ parameter: Parameter, layout: Layout = .same, carriesValue: Bool = true,
                blockOrder: [Int]? = nil) {
        precondition(blockOrder.map { Set($0) == Set($0.indices) && parameter.shape.last! % $0.count == 0 } ?? true,
                     "\(name): the block order must be a permutation of blocks that divide the last axis")
        (self.name, self.parameter, self.layout, self.carriesValue) = (name, parameter, layout, carriesValue)
        self.blockOrder = blockOrder
    }

    func prefixed(_ prefix: String) -> PyTorchTensor {
        var copy = self
        copy.name = prefix + name
        return copy
    }

    /// The shape PyTorch stores.
    var shape: [Int] {
        switch layout {
        case .same: parameter.shape
        case .transposed: parameter.shape.reversed()
        case .permuted(let axes): axes.map { parameter.shape[$0] }
        }
    }

    /// The tensor PyTorch stores.
    var exported: Tensor {
        guard carriesValue else { return Tensor(zeros: shape) }
        let ordered = reordered(parameter.tensor, toPyTorch: true)
        switch layout {
        case .same: return ordered
        case .transposed: return ordered.transposed()
        case .permuted(let axes):
            let (shape, kept) = squeezed(axes)
            return Tensor(shape: shape, scalars: ordered.scalars).permuted(kept)
        }
    }

    /// Our shape without the axes `axes` leaves out (each of size 1: the values' order stays), and
    /// `axes` renumbered for it.
    private func squeezed(_ axes: [Int]) -> (shape: [Int], axes: [Int]) {
        let keptAxes = axes.sorted()
        precondition(parameter.shape.indices.allSatisfy { keptAxes.contains($0) || parameter.shape[$0] == 1 },
                     "\(name): only axes of size 1 may be left out of a permutation")
        return (keptAxes.map { parameter.shape[$0] }, axes.map { keptAxes.firstIndex(of: $0)! })
    }

    /// Adds PyTorch's tensor into the parameter.
    func add(_ tensor: Tensor) {
        let ours: Tensor
        switch layout {
        case .same: ours = tensor
        case .transposed: ours = tensor.transposed()
        case .permuted(let axes):
            // The inverse permutation: our axis axes[i] is PyTorch's i.
            let kept = squeezed(axes).axes
            var inverse = [Int](repeating: 0, count: kept.count)
            for (i, axis) in kept.enumerated() { inverse[axis] = i }
            ours = tensor.permuted(inverse)
        }
        let value = reordered(ours, toPyTorch: false)
        for k in 0..<parameter.count { parameter.values[k] += value.scalars[k] }
    }

    /// `tensor` (in our layout) with the blocks of its last axis in PyTorch's order, or back.
    private func reordered(_ tensor: Tensor, toPyTorch: Bool) -> Tensor {
        guard let blockOrder else { return tensor }
        let width = tensor.shape.last!, block = width / blockOrder.count
        var result = tensor
        for row in 0..<(tensor.count / width) {
            for (theirs, ours) in blockOrder.enumerated() {
                let (from, to) = toPyTorch ? (ours, theirs) : (theirs, ours)
                for j in 0..<block {
                    result.scalars[row * width + to * block + j] = tensor.scalars[row * width + from * block + j]
                }
            }
        }
        return result
    }
}

extension Activation {
    /// The `torch.nn` module computing the same function (none for linear).
    public var pyTorchModule: PyTorchModule? {
        switch self {
        case .linear: return nil
        case .relu: return PyTorchModule("nn.ReLU()")
        case .sigmoid: return PyTorchModule("nn.Sigmoid()")
        case .tanh: return PyTorchModule("nn.Tanh()")
        case .softmax: return PyTorchModule("nn.Softmax(dim=-1)")
        case .elu: return PyTorchModule("nn.ELU()")
        case .leakyRelu: return PyTorchModule("nn.LeakyReLU(\(Self.leakySlope))")
        case .gelu: return PyTorchModule("nn.GELU(approximate=\"tanh\")")
        case .softplus: return PyTorchModule("nn.Softplus()")
        case .swish: return PyTorchModule("nn.SiLU()")
        case .hardSigmoid:
            // torch's nn.Hardsigmoid is relu6(x + 3) / 6, Keras 3's; ours is Keras 2's.
            return PyTorchModule("KerasHardSigmoid()", helpers: ["KerasHardSigmoid": """
                class KerasHardSigmoid(nn.Module):
                    \"\"\"Keras 2's hard sigmoid, clip(0.2·x + 0.5, 0, 1).\"\"\"
                    def forward(self, x):
                        return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)
                """])
        }
    }
}

/// A model in PyTorch's terms: the `state_dict` (with metadata that lets NeuralNetworks read it
/// back without a description) and the Python source of the matching `torch.nn.Sequential`.
public struct PyTorchExport {
    public var stateDict: Safetensors
    public var python: String
}

extension Sequential {
    /// The model as a `torch.nn.Sequential`: names `0.weight`, `0.bias`, …, PyTorch's layouts.
    /// `weightsFile` is named in the Python's instructions.
    public func pyTorchExport(weightsFile: String = "model.safetensors") throws -> PyTorchExport {
        precondition(isBuilt, "build the model before exporting it")
        let module = try PyTorchModule.sequential(layers)
        var tensors: [String: Tensor] = [:]
        for entry in module.tensors { tensors[entry.name] = entry.exported }
        let metadata = ["format": "pt", "nn_architecture": try canonicalJSON(modelDescription)]
        let helpers = module.helpers.keys.sorted().map { module.helpers[$0]! + "\n\n\n" }.joined()
        let python = """
            \"\"\"The torch.nn model of \(weightsFile), written by `nn export --format torch`.

                model = make_model()
                model.load_state_dict(safetensors.torch.load_file("\(weightsFile)"))
                model.eval()

            Inputs are float32 [batch, \(inputShape!.map(String.init).joined(separator: ", "))].
            \"\"\"
            import torch
            from torch import nn


            \(helpers)def make_model():
                return \(PyTorchModule.indent(module.code).dropFirst(4))

            """
        return PyTorchExport(stateDict: Safetensors(tensors: tensors, metadata: metadata), python: python)
    }

    /// A model from a PyTorch `state_dict` of the `torch.nn.Sequential` that ``pyTorchExport(weightsFile:)``
    /// describes for `architecture` (a saved model's or a model spec's layers, and the input shape).
    /// Every tensor must be there with its shape and finite values, and every tensor of the file
    /// must be used; errors name `file` and the tensor.
    public convenience init(pyTorch stateDict: Safetensors, file: String, architecture: ModelDescription) throws {
        do {
            guard !architecture.layers.isEmpty else { throw ShapeError("the architecture has no layers") }
            self.init(layers: try architecture.layers.map { try $0.makeLayer() })
            // No more values than the file holds: a hostile architecture is refused before it allocates.
            let allowed = max(stateDict.tensors.values.reduce(0, { $0 + $1.count }), 1 << 20)
            try build(inputShape: architecture.inputShape, seed: 0, initializesValues: false, maximumValues: allowed)
        } catch let error as ShapeError {
            throw SafetensorsError.unknownArchitecture(file: file, reason: error.description)
        }
        let module: PyTorchModule
        do { module = try PyTorchModule.sequential(layers) } catch let error as ShapeError {
            throw SafetensorsError.unknownArchitecture(file: file, reason: error.description)
        }
        for entry in module.tensors { entry.parameter.values.update(repeating: 0, count: entry.parameter.count) }
        for entry in module.tensors {
            guard let tensor = stateDict.tensors[entry.name] else {
                throw SafetensorsError.missingTensor(file: file, tensor: entry.name)
            }
            guard tensor.shape == entry.shape else {
                throw SafetensorsError.shapeMismatch(file: file, tensor: entry.name, expected: entry.shape, found: tensor.shape)
            }
            if let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw SafetensorsError.nonFinite(file: file, tensor: entry.name, index: bad, value: tensor.scalars[bad])
            }
            entry.add(tensor)
        }
        let used = Set(module.tensors.map(\.name))
        let unused = stateDict.tensors.keys.filter { !used.contains($0) }.sorted()
        guard unused.isEmpty else {
            throw SafetensorsError.unusedTensors(file: file, tensors: unused, reason: "the architecture has no place for them")
        }
    }
}
