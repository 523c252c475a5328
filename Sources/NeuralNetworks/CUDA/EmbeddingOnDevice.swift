/// ``Embedding`` on the GPU: forward, each position's table row (`nn_embedding_forward`);
/// backward, each position's gradient added into its row, the positions in order by one thread
/// per column (`nn_embedding_backward`: the CPU's sums, and no two threads add into one value).
/// The ids have no gradient: as on the CPU, a layer before it is given zeros.
final class EmbeddingOnDevice: CUDALayerForm {
    private let layer: Embedding
    private let plan: CUDAPlan
    private let positionsPerSample: Int
    private let table: CUDABuffer, tableGradient: CUDABuffer
    private let output: CUDABuffer
    private let zeros: CUDABuffer?  // the input gradient, where a layer before asks for one
    private var lastInput: CUDABuffer?

    init(_ layer: Embedding, inputShape: [Int], plan: CUDAPlan) throws {
        (self.layer, self.plan) = (layer, plan)
        positionsPerSample = inputShape.reduce(1, *)
        (table, tableGradient) = (plan.values(of: layer.embeddings), plan.gradients(of: layer.embeddings))
        output = try plan.buffer(perSample: positionsPerSample * layer.outputDim)
        zeros = layer.needsInputGradient ? try plan.buffer(perSample: positionsPerSample) : nil
        try zeros?.fill(0)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        lastInput = input
        let positions = batch * positionsPerSample
        try plan.launch("nn_embedding_forward", count: positions * layer.outputDim,
                        [.buffer(input), .buffer(table), .buffer(output), .long(positions), .int(Int32(layer.inputDim)),
                         .int(Int32(layer.outputDim))])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard let lastInput else { throw CUDAError("\(layer.name): backward before forward") }
        try plan.launch("nn_embedding_backward", count: layer.outputDim,
                        [.buffer(lastInput), .buffer(outputGradient), .buffer(tableGradient), .long(batch * positionsPerSample),
                         .int(Int32(layer.inputDim)), .int(Int32(layer.outputDim))])
        return layer.needsInputGradient ? zeros : nil
    }
}

extension Embedding: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try EmbeddingOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
