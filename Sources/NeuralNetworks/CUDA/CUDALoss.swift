/// A loss that trains on the GPU when the model trains there as a whole (``CUDAModel``): one
/// kernel of `nn_kernels.cuh`, called as (outputs, labels, targets, dense, row losses, gradient,
/// rows, width, fused) once per batch, with class labels (one per row) or, when `dense` is set,
/// dense target rows. With `fused` set, the outputs are the last layer's logits and the gradient
/// is theirs (the loss's ``LossFunction/fusedActivation`` not applied); otherwise they are its
/// outputs. Each row's loss goes to the row losses, whose mean is the batch's loss. A loss
/// gets its device kernel from one file beside its own (`MeanSquaredErrorOnDevice.swift`);
/// without it, a model trained with the loss runs layer by layer.
public protocol CUDALoss: LossFunction {
    static var cudaKernel: String { get }
}
