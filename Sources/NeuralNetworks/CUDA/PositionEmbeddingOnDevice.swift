/// ``PositionEmbedding`` on the GPU: forward, each sample's rows the table (`nn_fill_rows`, a
/// sample a row) plus the input; backward, the table's gradient the sum of the samples' output
/// gradients (a product by ones, as a bias's), which are also the input's.
final class PositionEmbeddingOnDevice: CUDALayerForm {
    private let layer: PositionEmbedding
    private let plan: CUDAPlan
    private let size: Int  // values per sample: the table's
    private let table: CUDABuffer, tableGradient: CUDABuffer
    private let output: CUDABuffer

    init(_ layer: PositionEmbedding, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan) = (layer, plan)
        size = inputShape.reduce(1, *)
        (table, tableGradient) = (plan.values(of: layer.embeddings), plan.gradients(of: layer.embeddings))
        output = try plan.buffer(perSample: size)
        try plan.reserveColumnSums(rows: plan.capacity)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.launch("nn_fill_rows", count: batch * size, [.buffer(output), .buffer(table), .int(Int32(batch)), .int(Int32(size))])
        try plan.launch("nn_add_values", count: batch * size, [.buffer(input), .buffer(output), .long(batch * size)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        try plan.addColumnSums(of: outputGradient, rows: batch, width: size, into: tableGradient)
        return layer.needsInputGradient ? outputGradient : nil
    }
}

extension PositionEmbedding: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try PositionEmbeddingOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
