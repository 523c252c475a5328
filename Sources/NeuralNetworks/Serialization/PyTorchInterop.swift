import Foundation

/// Weights of the equivalent PyTorch model: `nn.LSTM(features, units, batch_first=True,
/// bidirectional=True)` named `lstm` and `nn.Linear(2·units, classes)` named `fc`.
///
/// PyTorch keeps `weight_ih_l0` as 4·units × features (our `kernel` transposed), `weight_hh_l0`
/// as 4·units × units, and two biases that add up to ours; the gate order (i, f, g, o) is the
/// same. A unidirectional `nn.LSTM` (no `_reverse` tensors) maps to a plain ``LSTM``.
extension Sequential {
    public convenience init(pyTorch file: Safetensors, file path: String, inputShape: [Int]? = nil,
                            recurrentActivation: Activation = .sigmoid) throws {
        var used: Set<String> = []
        func tensor(_ name: String) throws -> Tensor {
            guard let t = file.tensors[name] else { throw SafetensorsError.missingTensor(file: path, tensor: name) }
            if let bad = t.scalars.firstIndex(where: { !$0.isFinite }) {
                throw SafetensorsError.nonFinite(file: path, tensor: name, index: bad, value: t.scalars[bad])
            }
            used.insert(name)
            return t
        }
        func expect(_ name: String, _ t: Tensor, _ shape: [Int]) throws {
            guard t.shape == shape else {
                throw SafetensorsError.shapeMismatch(file: path, tensor: name, expected: shape, found: t.shape)
            }
        }
        let weightHH = try tensor("lstm.weight_hh_l0")
        guard weightHH.rank == 2, weightHH.shape[1] > 0, weightHH.shape[0] == 4 * weightHH.shape[1] else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "lstm.weight_hh_l0 of shape \(weightHH.shape) is not [4·units, units]")
        }
        let units = weightHH.shape[1]
        let weightIH = try tensor("lstm.weight_ih_l0")
        guard weightIH.rank == 2, weightIH.shape[0] == 4 * units, weightIH.shape[1] > 0 else {
            throw SafetensorsError.shapeMismatch(file: path, tensor: "lstm.weight_ih_l0", expected: [4 * units, -1], found: weightIH.shape)
        }
        let features = weightIH.shape[1]
        let bidirectional = file.tensors["lstm.weight_ih_l0_reverse"] != nil
        let fcWeight = try tensor("fc.weight")
        let width = bidirectional ? 2 * units : units
        guard fcWeight.rank == 2, fcWeight.shape[1] == width, fcWeight.shape[0] > 0 else {
            throw SafetensorsError.shapeMismatch(file: path, tensor: "fc.weight", expected: [-1, width], found: fcWeight.shape)
        }
        let classes = fcWeight.shape[0]
        let gate = file.metadata["recurrent_activation"].flatMap(Activation.init(rawValue:)) ?? recurrentActivation
        let steps = inputShape ?? file.metadata["input_shape"].flatMap { try? JSONDecoder().decode([Int].self, from: Data($0.utf8)) }
            ?? [features, features]
        // Zeros: every value comes from the file (an orthogonal initialisation would be wasted).
        let lstm = LSTM(units: units, recurrentActivation: gate, kernelInitializer: .zeros, recurrentInitializer: .zeros)
        self.init(layers: [bidirectional ? Bidirectional(lstm) : lstm, Dense(units: classes, activation: .softmax)])
        guard steps.count == 2, steps[0] > 0, steps[1] == features else {
            throw SafetensorsError.unknownArchitecture(file: path, reason: "input shape \(steps) is not [steps, \(features)]")
        }
        try build(inputShape: steps, seed: 0)

        let directions: [(LSTM, String)] = bidirectional
            ? [((layers[0] as! Bidirectional).forwardLayer as! LSTM, ""),
               ((layers[0] as! Bidirectional).backwardLayer as! LSTM, "_reverse")]
            : [(layers[0] as! LSTM, "")]
        for (layer, suffix) in directions {
            let ih = try tensor("lstm.weight_ih_l0" + suffix), hh = try tensor("lstm.weight_hh_l0" + suffix)
            let bih = try tensor("lstm.bias_ih_l0" + suffix), bhh = try tensor("lstm.bias_hh_l0" + suffix)
            try expect("lstm.weight_ih_l0" + suffix, ih, [4 * units, features])
            try expect("lstm.weight_hh_l0" + suffix, hh, [4 * units, units])
            try expect("lstm.bias_ih_l0" + suffix, bih, [4 * units])
            try expect("lstm.bias_hh_l0" + suffix, bhh, [4 * units])
            layer.kernel.tensor = ih.transposed()
            layer.recurrentKernel.tensor = hh.transposed()
            layer.bias.tensor = Tensor(shape: [4 * units], scalars: zip(bih.scalars, bhh.scalars).map(+))
        }
        let dense = layers[1] as! Dense
        let fcBias = try tensor("fc.bias")
        try expect("fc.bias", fcBias, [classes])
        dense.kernel.tensor = fcWeight.transposed()
        dense.bias!.tensor = fcBias
        let unused = file.tensors.keys.filter { !used.contains($0) }.sorted()
        guard unused.isEmpty else {
            let stacked = unused.contains { $0.hasPrefix("lstm.") && $0.contains("_l1") }
            throw SafetensorsError.unusedTensors(file: path, tensors: unused, reason: stacked
                ? "a stacked (multi-layer) LSTM; only one layer per direction can be imported"
                : "only nn.LSTM named lstm and nn.Linear named fc are imported")
        }
    }

    /// The weights in PyTorch's names and layouts (`bias_hh` zero), with metadata naming the gate
    /// activation and input shape. Only `[Bidirectional(LSTM) or LSTM, Dense(softmax)]` models map.
    public func pyTorchSafetensors() throws -> Safetensors {
        let directions: [(LSTM, String)]
        switch layers.first {
        case let b as Bidirectional:
            guard let f = b.forwardLayer as? LSTM, let r = b.backwardLayer as? LSTM, b.mergeMode == .concat else {
                throw ShapeError("only an LSTM or Bidirectional(LSTM) followed by Dense exports to PyTorch")
            }
            directions = [(f, ""), (r, "_reverse")]
        case let l as LSTM: directions = [(l, "")]
        default: throw ShapeError("only an LSTM or Bidirectional(LSTM) followed by Dense exports to PyTorch")
        }
        guard layers.count == 2, let dense = layers[1] as? Dense, dense.useBias,
              directions.allSatisfy({ !$0.0.returnSequences && $0.0.activation == .tanh }),
              directions.first.map({ !$0.0.goBackwards }) == true else {
            throw ShapeError("only an LSTM or Bidirectional(LSTM) (tanh, last output) followed by Dense exports to PyTorch")
        }
        var tensors: [String: Tensor] = [:]
        for (layer, suffix) in directions {
            tensors["lstm.weight_ih_l0" + suffix] = layer.kernel.tensor.transposed()
            tensors["lstm.weight_hh_l0" + suffix] = layer.recurrentKernel.tensor.transposed()
            tensors["lstm.bias_ih_l0" + suffix] = layer.bias.tensor
            tensors["lstm.bias_hh_l0" + suffix] = Tensor(zeros: [4 * layer.units])
        }
        tensors["fc.weight"] = dense.kernel.tensor.transposed()
        tensors["fc.bias"] = dense.bias!.tensor
        let shape = try canonicalJSON(inputShape!)
        return Safetensors(tensors: tensors, metadata: [
            "format": "pt", "recurrent_activation": directions[0].0.recurrentActivation.rawValue,
            "input_shape": shape, "output_activation": dense.activation.rawValue,
        ])
    }
}

extension Tensor {
    /// The transpose of a matrix.
    /// The tensor with its axes in the order `axes` (axis i of the result is axis `axes[i]` of
    /// this one), as `torch.permute`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permuted(\(axes)) needs a permutation of \(rank) axes")
        let newShape = axes.map { shape[$0] }
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var result = [Float](repeating: 0, count: count), index = [Int](repeating: 0, count: rank)
        for k in 0..<count {
            result[k] = scalars[zip(index, axes).reduce(0) { $0 + $1.0 * strides[$1.1] }]
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < newShape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return Tensor(shape: newShape, scalars: result)
    }

    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got shape \(shape)")
        let (rows, columns) = (shape[0], shape[1])
        var result = [Float](repeating: 0, count: count)
        for r in 0..<rows {
            for c in 0..<columns { result[c * rows + r] = scalars[r * columns + c] }
        }
        return Tensor(shape: [columns, rows], scalars: result)
    }
}
