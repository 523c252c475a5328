/// A model's passes run as a whole by its backend's device (``CUDABackend``: parameters,
/// gradients, optimizer state and every activation in GPU memory), instead of layer by layer on
/// host memory. The host's parameters stay the truth between calls: `fit`, `evaluate` and
/// `predict` load them (and the optimizer's state) to the device when they start, and `fit`
/// stores them back after every epoch and whenever it stops, before anything reads them
/// (validation, checkpoints, the caller).
public protocol ModelExecution: AnyObject {
    /// The most samples a batch may have.
    var capacity: Int { get }
    /// Copies the model's parameters to the device, and the optimizer's state when one is given.
    func load(optimizer: (any Optimizer)?) throws
    /// Copies the device's parameters (and the optimizer's state) back into the model's (and the optimizer's).
    func store(optimizer: (any Optimizer)?) throws
    /// Whether ``trainStep(_:labels:optimizer:epoch:batch:)`` trains with `loss` and `optimizer`
    /// (otherwise `fit` runs the layers on the host path).
    func canTrain(loss: Loss, optimizer: any Optimizer) -> Bool
    /// One optimisation step on a batch of class labels, as ``Sequential/trainStep(_:labels:loss:optimizer:clipNorm:clipValue:epoch:batch:stopRequested:)``
    /// does it: the batch's mean loss and the samples it classified right before the update; a
    /// non-finite loss or gradient throws ``TrainingError`` before the update.
    func trainStep(_ inputs: Tensor, labels: [Int], optimizer: any Optimizer, epoch: Int, batch: Int) throws
        -> (loss: Float, correct: Int)
    /// An inference pass: the model's outputs, and the last layer's logits (its values before its
    /// activation) where it is a Dense layer.
    func forward(_ inputs: Tensor) throws -> (outputs: Tensor, logits: Tensor?)
}
