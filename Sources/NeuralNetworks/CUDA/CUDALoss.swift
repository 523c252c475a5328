/// A loss that trains on the GPU when the model trains there as a whole (``CUDAModel``): one
/// kernel of `nn_kernels.cuh`, called as (outputs, labels, targets, dense, row losses, gradient,
/// rows, width, fused, settings) once per batch, with class labels (one per row) or, when `dense` is set,
/// dense target rows. With `fused` set, the outputs are the last layer's logits and the gradient
/// is theirs (the loss's ``LossFunction/fusedActivation`` not applied); otherwise they are its
/// outputs. Each row's loss goes to the row losses, whose mean is the batch's loss. A loss
/// gets its device kernel from one file beside its own (`MeanSquaredErrorOnDevice.swift`);
/// without it, a model trained with the loss runs layer by layer.
public protocol CUDALoss: LossFunction {
    static var cudaKernel: String { get }
    /// What the kernel reads from its settings (at most ``CUDALossSettings/capacity`` floats:
    /// a label smoothing amount, Huber's delta); none by default.
    var cudaSettings: [Float] { get }
    /// Settings `nn cuda --check` compares with the CPU beside the defaults (label smoothing
    /// on); none by default.
    static var checkedVariants: [Self] { get }
}

extension CUDALoss {
    public var cudaSettings: [Float] { [] }
    public static var checkedVariants: [Self] { [] }
}

public enum CUDALossSettings {
    /// The most floats a loss's ``CUDALoss/cudaSettings`` may have.
    public static let capacity = 4

    /// `settings` padded to ``capacity``.
    static func padded(_ settings: [Float], of loss: String) -> [Float] {
        precondition(settings.count <= capacity, "\(loss) has more than \(capacity) device settings")
        return settings + [Float](repeating: 0, count: capacity - settings.count)
    }
}

/// A loss on label sequences (``CTCLoss``) that trains on the GPU when the model trains there as a
/// whole, on outputs [steps, width]: one kernel of `nn_kernels.cuh`, called once per batch as
/// (outputs, sequences, row losses, gradient, workspace, batch, steps, width, fused, options),
/// one thread per sample. `sequences` holds each sample's labels as ``cudaLabels(_:width:)``
/// gives them, after their count (−1 when there are more than the steps); each of a sample's
/// rows of the row losses gets its loss. A loss gets its device kernel from one file beside its own.
public protocol CUDASequenceLoss: LossFunction {
    static var cudaKernel: String { get }
    /// The doubles of workspace the kernel needs per sample.
    static func cudaWorkspace(steps: Int, width: Int) -> Int
    /// The output indices the kernel reads for `sequence`'s labels.
    func cudaLabels(_ sequence: [Int], width: Int) -> [Int32]
    /// The settings the kernel reads, as one int.
    func cudaOptions(width: Int) -> Int32
}

extension CUDASequenceLoss {
    /// `sequences` as the kernel reads them, into the start of `packed`: per sample, steps + 1
    /// ints, the label count (−1 for more labels than steps) then ``cudaLabels(_:width:)``. Checked
    /// as the CPU's loss checks them, since the kernel indexes the outputs by the blank and the labels.
    func pack(_ sequences: [[Int]], steps: Int, width: Int, into packed: inout [Int32]) {
        let name = Self.typeName
        precondition(cudaOptions(width: width) >> 2 < width, "\(name): the blank is outside the \(width) outputs")
        for (row, sequence) in sequences.enumerated() {
            let start = row * (steps + 1)
            guard sequence.count <= steps else {
                packed[start] = -1
                continue
            }
            packed[start] = Int32(sequence.count)
            for (index, label) in cudaLabels(sequence, width: width).enumerated() {
                precondition((0..<Int32(width)).contains(label), "\(name): a label outside the \(width - 1) classes")
                packed[start + 1 + index] = label
            }
        }
    }
}
