/// An optimizer whose update runs on the GPU when the model trains there as a whole
/// (``CUDAModel``): one kernel of `nn_kernels.cuh` per parameter, with the optimizer's slots
/// (``Optimizer/slotNames``, at most two) in device memory beside the parameters. An optimizer
/// gets its device update from one file beside its own (`SGDOnDevice.swift`): this conformance
/// and its kernel. Without it, a model trained with the optimizer runs layer by layer.
public protocol CUDAOptimizer: Optimizer {
    /// The kernel that updates one parameter, called as (parameter, gradient, first slot, second
    /// slot, settings, skip flag, count); it changes nothing while the skip flag is set.
    static var cudaKernel: String { get }
    /// What the kernel reads from its settings for the next update (at most
    /// ``CUDAOptimizerSettings/capacity`` floats): worked out on the host before each step, the
    /// schedule's learning rate and bias corrections among them, so that a step recorded as a
    /// CUDA graph takes each batch's from device memory.
    var cudaSettings: [Float] { get }
}

public enum CUDAOptimizerSettings {
    /// The most floats an optimizer's ``CUDAOptimizer/cudaSettings`` may have.
    public static let capacity = 8
    /// The most slots an optimizer on the device may keep.
    public static let slots = 2

    /// The arguments of an optimizer's kernel for one parameter of `count` values: `slots` its
    /// state (as many as it has; a missing second one is given the first, which it does not read).
    static func arguments(parameter: CUDABuffer, gradient: CUDABuffer, slots: [CUDABuffer], settings: CUDABuffer,
                          skip: CUDABuffer, count: Int) -> [CUDADevice.Argument] {
        let first = slots.first ?? parameter, second = slots.count > 1 ? slots[1] : first
        return [.buffer(parameter), .buffer(gradient), .buffer(first), .buffer(second), .buffer(settings), .buffer(skip),
                .long(count)]
    }
}
