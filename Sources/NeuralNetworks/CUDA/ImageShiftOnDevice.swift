/// A layer that places its images into others of another size (``ZeroPadding2D``,
/// ``Cropping2D``) on the GPU: `nn_shift_images` forward, and backward the same kernel for the
/// move back (the output gradient's part that came from the input, zeros where it did not).
final class ImageShiftOnDevice: CUDALayerForm {
    private let plan: CUDAPlan
    private let move: ImageMargins.Move
    private let needsInputGradient: () -> Bool
    private let output: CUDABuffer, inputGradient: CUDABuffer

    init(plan: CUDAPlan, move: ImageMargins.Move, needsInputGradient: @escaping () -> Bool) throws {
        (self.plan, self.move, self.needsInputGradient) = (plan, move, needsInputGradient)
        output = try plan.buffer(perSample: move.to.0 * move.to.1 * move.channels)
        inputGradient = try plan.buffer(perSample: move.from.0 * move.from.1 * move.channels)
    }

    private func launch(_ move: ImageMargins.Move, _ x: CUDABuffer, into y: CUDABuffer, batch: Int) throws {
        let (from, to) = (move.from, move.to)
        try plan.launch("nn_shift_images", count: batch * to.0 * to.1 * move.channels,
                        [.buffer(x), .buffer(y), .int(Int32(batch)), .int(Int32(from.0)), .int(Int32(from.1)),
                         .int(Int32(move.channels)), .int(Int32(to.0)), .int(Int32(to.1)), .int(Int32(move.down)),
                         .int(Int32(move.right))])
    }

    func forward(_ input: CUDABuffer, batch: Int) throws -> CUDABuffer {
        try launch(move, input, into: output, batch: batch)
        return output
    }

    func backward(_ outputGradient: CUDABuffer, batch: Int) throws -> CUDABuffer? {
        guard needsInputGradient() else { return nil }
        try launch(move.reversed, outputGradient, into: inputGradient, batch: batch)
        return inputGradient
    }
}
