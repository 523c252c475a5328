/// ``CTCLoss`` on the GPU: `nn_ctc_loss`, the CPU's α and β recursions in double, one thread per
/// sample. Options: bit 0 the "mean" reduction, bit 1 `zeroInfinity`, the blank's index from bit 2.
extension CTCLoss: CUDASequenceLoss {
    public static let cudaKernel = "nn_ctc_loss"

    public static func cudaWorkspace(steps: Int, width: Int) -> Int {
        steps * (width + 2 * steps + 1) + 2 * (2 * steps + 1) + width
    }

    public func cudaLabels(_ sequence: [Int], width: Int) -> [Int32] {
        let blank = blankIndex(width: width)
        return sequence.map { Int32(output(of: $0, blank: blank)) }
    }

    public func cudaOptions(width: Int) -> Int32 {
        Int32(blankIndex(width: width)) << 2 | (zeroInfinity ? 2 : 0) | (reduction == .mean ? 1 : 0)
    }
}
