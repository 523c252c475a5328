/// A model's passes run as a whole by its backend's device (``CUDABackend``: parameters,
/// gradients, optimizer state and every activation in GPU memory), instead of layer by layer on
/// host memory. The host's parameters stay the truth between calls: `fit`, `evaluate` and
/// `predict` load them (and the optimizer's state) to the device when they start, and `fit`
/// stores them back after every epoch and whenever it stops, before anything reads them
/// (validation, checkpoints, the caller).
public protocol ModelExecution: AnyObject {
    /// Copies the model's parameters to the device, and the optimizer's state when one is given.
    func load(optimizer: (any Optimizer)?) throws
    /// Copies the device's parameters (and the optimizer's state) back into the model's (and the optimizer's).
    func store(optimizer: (any Optimizer)?) throws
    /// Whether ``trainStep(_:loss:optimizer:clipNorm:clipValue:epoch:batch:)`` trains with `loss` and `optimizer`
    /// (otherwise `fit` runs the layers on the host path).
    func canTrain(loss: Loss, optimizer: any Optimizer) -> Bool
    /// Keeps `data`'s samples and class labels in device memory, where they fit (nil where they
    /// do not, or the data has other targets): its batches are then named by their samples' indices.
    func stage(_ data: Dataset) throws -> (any StagedData)?
    /// One optimisation step on a batch of class labels or dense targets, as ``Sequential/trainStep(_:labels:loss:optimizer:clipNorm:clipValue:epoch:batch:stopRequested:)``
    /// does it: the batch's mean loss and the samples it classified right before the update (0 for dense targets); a
    /// non-finite loss or gradient throws ``TrainingError`` before the update. The gradients are
    /// clipped by value (`clipValue`), then to a global norm (`clipNorm`), where given.
    func trainStep(_ batch: ExecutionBatch, loss: Loss, optimizer: any Optimizer, clipNorm: Float?, clipValue: Float?,
                   epoch: Int, batch index: Int) throws -> (loss: Float, correct: Int)
    /// An inference pass: the model's outputs, and the last layer's logits (its values before its
    /// activation) where it is a Dense layer.
    func forward(_ batch: ExecutionBatch) throws -> (outputs: Tensor, logits: Tensor?)
}

/// A data set kept in a device's memory (``ModelExecution/stage(_:)``).
public protocol StagedData: AnyObject {
    var count: Int { get }
}

/// A batch for a ``ModelExecution``.
public enum ExecutionBatch {
    /// Samples in host memory, with their targets when it trains on them (class labels, or dense
    /// rows of the outputs' shape).
    case host(Tensor, targets: Targets?)
    /// The samples of a staged data set at these indices.
    case staged(any StagedData, samples: [Int])

    /// The samples of `data` at `indices`: by index where `data` is staged, else from host memory.
    static func of<C: Collection>(_ data: Dataset, _ indices: C, staged: (any StagedData)?) throws -> ExecutionBatch
        where C.Element == Int {
        if let staged { return .staged(staged, samples: Array(indices)) }
        let (inputs, targets) = try data.batch(indices)
        return .host(inputs, targets: targets)
    }
}
