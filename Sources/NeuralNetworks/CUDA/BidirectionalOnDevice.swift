/// ``Bidirectional`` (of LSTMs) on the GPU: both directions' passes, then the merge kernel
/// (concat, sum, average or product, the backward direction's sequence met step for step as the
/// CPU layer does); backward, the unmerge kernel, and the second direction's input gradient added
/// to the first's as it is scattered.
final class BidirectionalOnDevice: CUDALayerForm {
    private let layer: Bidirectional
    private let plan: CUDAPlan
    private let directions: [LSTMOnDevice]
    private let units: Int, sequenceLength: Int, features: Int, steps: Int
    private let output: CUDABuffer, forwardGradient: CUDABuffer, backwardGradient: CUDABuffer, inputGradient: CUDABuffer
    private var outputs: [CUDABuffer] = []
    private var mode: Int32 {
        switch layer.mergeMode {
        case .concat: 0
        case .sum: 1
        case .ave: 2
        case .mul: 3
        }
    }

    init?(_ layer: Bidirectional, inputShape: [Int], plan: CUDAPlan) throws {
        guard let forwards = layer.forwardLayer as? LSTM, let backwards = layer.backwardLayer as? LSTM,
              let first = try LSTMOnDevice(forwards, inputShape: inputShape, plan: plan),
              let second = try LSTMOnDevice(backwards, inputShape: inputShape, plan: plan) else { return nil }
        (self.layer, self.plan, directions) = (layer, plan, [first, second])
        (steps, features, units) = (inputShape[0], inputShape[1], forwards.units)
        sequenceLength = forwards.returnSequences ? steps : 1
        let merged = layer.mergeMode == .concat ? 2 * units : units
        output = try plan.buffer(perSample: sequenceLength * merged)
        forwardGradient = try plan.buffer(perSample: sequenceLength * units)
        backwardGradient = try plan.buffer(perSample: sequenceLength * units)
        inputGradient = try plan.buffer(perSample: steps * features)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        outputs = try directions.map { try $0.forward(input, batch: batch) }
        try plan.launch("nn_merge_directions", count: batch * sequenceLength * units,
                        [.buffer(outputs[0]), .buffer(outputs[1]), .buffer(output), .int(Int32(batch)),
                         .int(Int32(sequenceLength)), .int(Int32(units)), .int(mode), .int(layer.returnSequences ? 1 : 0)])
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        try plan.launch("nn_unmerge_directions", count: batch * sequenceLength * units,
                        [.buffer(outputGradient), .buffer(outputs[0]), .buffer(outputs[1]), .buffer(forwardGradient),
                         .buffer(backwardGradient), .int(Int32(batch)), .int(Int32(sequenceLength)), .int(Int32(units)),
                         .int(mode), .int(layer.returnSequences ? 1 : 0)])
        let wrote = try directions[0].backward(forwardGradient, batch: batch, into: inputGradient, accumulate: false)
        _ = try directions[1].backward(backwardGradient, batch: batch, into: inputGradient, accumulate: true)
        return wrote ? inputGradient : nil
    }
}

extension Bidirectional: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try BidirectionalOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
