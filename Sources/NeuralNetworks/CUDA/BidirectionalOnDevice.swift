/// ``Bidirectional`` on the GPU, of any recurrent layer with a device form (``CUDARecurrentForm``:
/// LSTM, GRU, SimpleRNN): the directions' passes at the same time, the second
/// on the plan's second stream (forked after the input is ready, joined before the merge), then
/// the merge kernel (concat, sum, average or product, the backward direction's sequence met step
/// for step as the CPU layer does); backward, the unmerge kernel, both directions at once again,
/// each with its own input gradient, and their sum.
final class BidirectionalOnDevice: CUDALayerForm {
    private let layer: Bidirectional
    private let plan: CUDAPlan
    private let directions: [any CUDARecurrentForm]
    private let units: Int, sequenceLength: Int, features: Int, steps: Int
    private let output: CUDABuffer, forwardGradient: CUDABuffer, backwardGradient: CUDABuffer
    private let inputGradient: CUDABuffer, secondInputGradient: CUDABuffer
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
        func form(_ direction: any RecurrentLayer) throws -> (any CUDARecurrentForm)? {
            try (direction as? any CUDALayer)?.cudaForm(inputShape: inputShape, plan: plan) as? any CUDARecurrentForm
        }
        guard inputShape.count == 2, let first = try form(layer.forwardLayer), let second = try form(layer.backwardLayer)
        else { return nil }
        (self.layer, self.plan, directions) = (layer, plan, [first, second])
        second.lane = .second
        (steps, features, units) = (inputShape[0], inputShape[1], first.units)
        sequenceLength = layer.returnSequences ? steps : 1
        let merged = layer.mergeMode == .concat ? 2 * units : units
        output = try plan.buffer(perSample: sequenceLength * merged)
        forwardGradient = try plan.buffer(perSample: sequenceLength * units)
        backwardGradient = try plan.buffer(perSample: sequenceLength * units)
        inputGradient = try plan.buffer(perSample: steps * features)
        secondInputGradient = try plan.buffer(perSample: steps * features)
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try plan.fork()
        outputs = try directions.map { try $0.forward(input, batch: batch) }
        try plan.join()
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
        try plan.fork()
        let wrote = try directions[0].backward(forwardGradient, batch: batch, into: inputGradient, accumulate: false)
        _ = try directions[1].backward(backwardGradient, batch: batch, into: secondInputGradient, accumulate: false)
        try plan.join()
        guard wrote else { return nil }
        let count = batch * steps * features
        try plan.launch("nn_add_values", count: count, [.buffer(secondInputGradient), .buffer(inputGradient), .long(count)])
        return inputGradient
    }
}

extension Bidirectional: CUDALayer {
    public func cudaForm(inputShape: [Int], plan: CUDAPlan) throws -> (any CUDALayerForm)? {
        try BidirectionalOnDevice(self, inputShape: inputShape, plan: plan)
    }
}
