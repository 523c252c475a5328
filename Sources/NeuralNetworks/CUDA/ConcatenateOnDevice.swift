/// ``Concatenate`` on the GPU: each branch's form on the same input, their outputs side by side
/// along the last axis (`nn_copy_block` per branch); backward, each branch's columns of the
/// gradient taken out for it, and the branches' input gradients summed.
final class ConcatenateOnDevice: CUDALayerForm {
    private let layer: Concatenate
    private let plan: CUDAPlan
    private let branches: [any CUDALayerForm]
    private let widths: [Int], rowsPerSample: Int, inputWidth: Int
    private let output: CUDABuffer, inputGradient: CUDABuffer
    private let branchGradients: [CUDABuffer]  // each branch's columns of the output gradient
    private var total: Int { widths.reduce(0, +) }

    init?(_ layer: Concatenate, inputShape: [Int], plan: CUDAPlan) throws {
        var branches: [any CUDALayerForm] = []
        for branch in layer.branches {
            guard let form = try (branch as? any CUDALayer)?.cudaForm(inputShape: inputShape, plan: plan) else { return nil }
            branches.append(form)
        }
        (self.layer, self.plan, self.branches) = (layer, plan, branches)
        widths = layer.branchShapes.map { $0.last! }
        rowsPerSample = layer.branchShapes[0].dropLast().reduce(1, *)
        inputWidth = inputShape.reduce(1, *)
        output = try plan.buffer(perSample: rowsPerSample * widths.reduce(0, +))
        inputGradient = try plan.buffer(perSample: inputWidth)
        let rows = rowsPerSample
        branchGradients = try widths.map { try plan.buffer(perSample: rows * $0) }
    }

    func prepare(batch: Int, context: ForwardContext) throws {
        for branch in branches { try branch.prepare(batch: batch, context: context) }
    }

    /// Copies `rows` rows of `width` values from column `from` of rows `fromStride` apart into
    /// column `to` of rows `toStride` apart.
    private func copyBlock(_ x: CUDABuffer, into y: CUDABuffer, rows: Int, width: Int, from: (stride: Int, column: Int),
                           to: (stride: Int, column: Int)) throws {
        try plan.launch("nn_copy_block", count: rows * width,
                        [.buffer(x), .buffer(y), .int(Int32(rows)), .int(Int32(width)), .int(Int32(from.stride)),
                         .int(Int32(from.column)), .int(Int32(to.stride)), .int(Int32(to.column))])
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        let rows = batch * rowsPerSample
        var column = 0
        for (branch, width) in zip(branches, widths) {
            try copyBlock(try branch.forward(input, batch: batch), into: output, rows: rows, width: width,
                          from: (width, 0), to: (total, column))
            column += width
        }
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        let rows = batch * rowsPerSample, count = batch * inputWidth
        var column = 0, first = true
        for (index, (branch, width)) in zip(branches, widths).enumerated() {
            try copyBlock(outputGradient, into: branchGradients[index], rows: rows, width: width, from: (total, column),
                          to: (width, 0))
            column += width
            guard let gradient = try branch.backward(branchGradients[index], batch: batch), layer.needsInputGradient else {
                continue
            }
            if first {
                try inputGradient.copy(from: gradient, count: count, on: plan.stream(.first))
            } else {
                try plan.launch("nn_add_values", count: count, [.buffer(gradient), .buffer(inputGradient), .long(count)])
            }
            first = false
        }
        return layer.needsInputGradient && !first ? inputGradient : nil
    }
}

extension Concatenate: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try ConcatenateOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
