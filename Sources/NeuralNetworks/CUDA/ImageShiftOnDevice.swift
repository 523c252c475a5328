/// A layer that places its images into others of another size (``ZeroPadding2D``,
/// ``Cropping2D``) on the GPU: `nn_shift_images` forward, and backward the same kernel the other
/// way (the output gradient's part that came from the input, zeros where it did not).
final class ImageShiftOnDevice: CUDALayerForm {
    private let plan: CUDAPlan
    private let from: (Int, Int), to: (Int, Int), channels: Int, down: Int, right: Int
    private let needsInputGradient: () -> Bool
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init(plan: CUDAPlan, move: ImageMargins.Move, needsInputGradient: @escaping () -> Bool) throws {
        (self.plan, from, to, channels, down, right) = (plan, move.from, move.to, move.channels, move.down, move.right)
        self.needsInputGradient = needsInputGradient
        output = try plan.buffer(perSample: to.0 * to.1 * channels)
        inputGradient = try plan.buffer(perSample: from.0 * from.1 * channels)
    }

    private func shift(_ x: CUDABuffer, into y: CUDABuffer, batch: Int, from: (Int, Int), to: (Int, Int), down: Int,
                       right: Int) throws {
        try plan.launch("nn_shift_images", count: batch * to.0 * to.1 * channels,
                        [.buffer(x), .buffer(y), .int(Int32(batch)), .int(Int32(from.0)), .int(Int32(from.1)),
                         .int(Int32(channels)), .int(Int32(to.0)), .int(Int32(to.1)), .int(Int32(down)), .int(Int32(right))])
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try shift(input, into: output, batch: batch, from: from, to: to, down: down, right: right)
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard needsInputGradient() else { return nil }
        try shift(outputGradient, into: inputGradient, batch: batch, from: to, to: from, down: -down, right: -right)
        return inputGradient
    }
}
