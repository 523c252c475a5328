import Foundation

/// Synchronous data-parallel training: pass one to ``Sequential/fit(_:validation:loss:optimizer:epochs:batchSize:seed:clipNorm:clipValue:shuffle:resumeFrom:dataParallel:onBatch:onEpoch:shouldStop:onCheckpoint:)``
/// in every process of a group (``OpenMPI`` under `mpirun`, or a ``ThreadGroup``).
///
/// Every process holds the whole model and walks the same seeded order of the training set.
/// Each batch (of the batch size given to `fit`, the *global* batch) is split into contiguous
/// parts, one per process (``BatchShard``); each process runs the forward and backward passes on
/// its part, then one `allreduce` adds, in a single flat buffer:
/// - the gradients, each process's scaled by its share of the batch (its samples ÷ the batch),
///   so the sum is the gradient of the batch's mean loss, as one process would compute it;
/// - how each buffer (batch normalisation's running statistics) changed, weighted the same way,
///   so buffers stay alike everywhere (the running mean as one process would have it);
/// - the loss and the count of samples classified right, and whether any process was asked to stop.
///
/// Then every process applies the same update to the same parameters, so they stay identical
/// without ever being sent. The sums differ from one process's in the order of additions only
/// (two half-batch products added, not one product), so losses agree to rounding, not bit for bit.
/// Batch normalisation normalises with each process's own part of the batch (as PyTorch's
/// `DistributedDataParallel` without `SyncBatchNorm`).
public final class DataParallel {
    public let communicator: any Communicator
    /// Compare a hash of the parameters across processes after every epoch (a debugging aid: they
    /// must be identical); a difference throws ``DistributedError``.
    public var checksReplicas: Bool
    /// Float values in each batch's reduction (gradients, buffers and 3 figures).
    public private(set) var valuesPerReduction = 0
    /// Reductions made, and the seconds spent in them (waiting for the slowest process included).
    public private(set) var reductions = 0
    public private(set) var reductionSeconds = 0.0
    /// Whether the processes agreed to stop (one of them was asked to): the same in every process,
    /// also in those that were not asked themselves.
    public private(set) var stopAgreed = false

    private var flat: [Float] = []
    private var bufferSnapshot: [Float] = []

    public init(_ communicator: any Communicator, checksReplicas: Bool = false) {
        self.communicator = communicator
        self.checksReplicas = checksReplicas
    }

    public var rank: Int { communicator.rank }
    public var size: Int { communicator.size }

    /// This process's part of a batch of `batchSize`.
    func shard(batchSize: Int) -> BatchShard { BatchShard(rank: rank, of: size, batchSize: batchSize) }

    /// One synchronous step: this process's passes over `samples` (its shard of the batch `order[batch]`),
    /// the reduction, and the update. Returns the batch's loss and classified-right count over all
    /// processes, and whether any process asked to stop (`shouldStop`, asked just before the
    /// reduction: a stop asked after a batch is agreed in the next one's).
    func trainStep(_ model: Sequential, data: Dataset, order: ArraySlice<Int>, loss: Loss, optimizer: any Optimizer,
                   clipNorm: Float?, clipValue: Float?, epoch: Int, batch: Int,
                   shouldStop: (() -> Bool)?) throws -> (loss: Float, correct: Int, stop: Bool) {
        let shard = shard(batchSize: order.count)
        let buffers = model.parameters.filter { !$0.isTrainable }
        let trainable = model.trainableParameters
        GradientNorm.zero(trainable, threads: model.threads)
        snapshot(buffers)
        var value: Float = 0, correct = 0
        if !shard.samples.isEmpty {
            let mine = order[(order.startIndex + shard.samples.lowerBound)..<(order.startIndex + shard.samples.upperBound)]
            let (inputs, targets) = try data.batch(mine)
            try model.checkInput(inputs)
            (value, correct) = model.accumulateGradients(inputs, targets: targets, loss: loss, stopRequested: nil,
                                                         sequenceLengths: data.sequenceLengths(of: mine),
                                                         batchShard: shard)
        }
        let share = Float(shard.samples.count) / Float(order.count)
        let totals = try reduce(trainable: trainable, buffers: buffers, share: share,
                                figures: [value * Float(shard.samples.count), Float(correct), shouldStop?() == true ? 1 : 0])
        let batchLoss = totals[0] / Float(order.count)
        try model.applyGradients(loss: batchLoss, optimizer: optimizer, clipNorm: clipNorm, clipValue: clipValue,
                                 epoch: epoch, batch: batch)
        stopAgreed = stopAgreed || totals[2] > 0
        return (batchLoss, Int(totals[1].rounded()), totals[2] > 0)
    }

    private func snapshot(_ buffers: [Parameter]) {
        bufferSnapshot.removeAll(keepingCapacity: true)
        for buffer in buffers { bufferSnapshot.append(contentsOf: UnsafeBufferPointer(start: buffer.values, count: buffer.count)) }
    }

    /// The one allreduce of a step: gradients × `share`, buffer changes × `share`, then `figures`
    /// (summed as they are); writes the sums back and returns the figures' sums.
    private func reduce(trainable: [Parameter], buffers: [Parameter], share: Float, figures: [Float]) throws -> [Float] {
        let count = trainable.reduce(0) { $0 + $1.count } + bufferSnapshot.count + figures.count
        if flat.count != count { flat = [Float](repeating: 0, count: count) }
        valuesPerReduction = count
        var offset = 0
        flat.withUnsafeMutableBufferPointer { flat in
            for parameter in trainable {
                VectorMath.map(parameter.gradients, flat.baseAddress! + offset, count: parameter.count) { $0 * share }
                offset += parameter.count
            }
            var snapshotOffset = 0
            for buffer in buffers {
                for i in 0..<buffer.count {
                    flat[offset + i] = (buffer.values[i] - bufferSnapshot[snapshotOffset + i]) * share
                }
                offset += buffer.count
                snapshotOffset += buffer.count
            }
            for (i, figure) in figures.enumerated() { flat[offset + i] = figure }
        }
        let start = Date()
        try flat.withUnsafeMutableBufferPointer { try communicator.allreduce($0, .sum) }
        reductionSeconds += Date().timeIntervalSince(start)
        reductions += 1
        offset = 0
        flat.withUnsafeBufferPointer { flat in
            for parameter in trainable {
                parameter.gradients.update(from: flat.baseAddress! + offset, count: parameter.count)
                offset += parameter.count
            }
            var snapshotOffset = 0
            for buffer in buffers {
                for i in 0..<buffer.count { buffer.values[i] = bufferSnapshot[snapshotOffset + i] + flat[offset + i] }
                offset += buffer.count
                snapshotOffset += buffer.count
            }
        }
        return Array(flat[offset...])
    }

    /// Seconds per allreduce of one step's buffer with nothing else running: `repeats` back to back
    /// (collective: every process calls it). Apart from ``reductionSeconds``, which includes the
    /// wait for the slowest process of each step.
    public func measureAllreduce(repeats: Int = 20) throws -> Double {
        var buffer = [Float](repeating: 0, count: max(valuesPerReduction, 1))
        try buffer.withUnsafeMutableBufferPointer { try communicator.allreduce($0, .sum) }  // line up the processes
        let start = Date()
        for _ in 0..<repeats { try buffer.withUnsafeMutableBufferPointer { try communicator.allreduce($0, .sum) } }
        return Date().timeIntervalSince(start) / Double(max(repeats, 1))
    }

    /// `validation` evaluated in parts, one per process, and the parts added.
    func evaluate(_ model: Sequential, _ validation: Dataset, loss: Loss, batchSize: Int) throws -> Evaluation {
        let part = BatchShard(rank: rank, of: size, batchSize: validation.count).samples
        var totals = try model.evaluationTotals(validation, samples: part, loss: loss, batchSize: batchSize)
        totals.sums = try communicator.allreduce(totals.sums, .sum)
        totals.matrix = []
        return totals.evaluation(validation, loss: loss)
    }

    /// Whether any process asks to stop.
    func anyStops(_ stop: Bool) throws -> Bool {
        stopAgreed = try stopAgreed || !communicator.allAgree(!stop)
        return stopAgreed
    }

    /// Throws unless every process holds the same parameter values (with ``checksReplicas``).
    func checkReplicas(_ model: Sequential, epoch: Int) throws {
        guard checksReplicas else { return }
        let hash = Self.hash(model.parameters)
        let halves = [Double(hash >> 32), Double(hash & 0xFFFF_FFFF)]
        let low = try communicator.allreduce(halves, .minimum), high = try communicator.allreduce(halves, .maximum)
        guard low == high else {
            throw DistributedError("after epoch \(epoch) the processes' parameters differ (hash check): "
                                   + "the replicas diverged")
        }
    }

    /// FNV-1a over the values' bytes, in walk order.
    static func hash(_ parameters: [Parameter]) -> UInt64 {
        var hash = FNV1a()
        for parameter in parameters {
            hash.mix(bytes: UnsafeRawBufferPointer(start: parameter.values, count: parameter.count * 4))
        }
        return hash.value
    }
}
