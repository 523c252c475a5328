/// The order a recurrent layer processes a batch's steps in, sample by sample: forwards, or from
/// the sequence's end (`goBackwards`), and with per-sample lengths (``ForwardContext/sequenceLengths``)
/// only each sample's first `length` steps, the rest being padding.
///
/// Processing step `s` of sample `b` reads time `s` (forwards) or `length − 1 − s` (backwards);
/// steps `s ≥ length` are padding: the layer keeps the sample's state as it was, outputs zeros
/// there and gives them no gradient. So the state after the last processing step is the state at
/// the sample's own last step, whichever way it runs (PyTorch's packed sequences).
struct StepOrder {
    let steps: Int
    let reversed: Bool
    /// Valid steps per sample, or nil when every sample has all `steps`.
    let lengths: [Int]?
    /// The shortest length: no step before it is padding for any sample.
    private let shortest: Int

    init(steps: Int, reversed: Bool, lengths: [Int]? = nil) {
        (self.steps, self.reversed, self.lengths) = (steps, reversed, lengths)
        shortest = lengths?.min() ?? steps
    }

    @inline(__always) func length(_ b: Int) -> Int { lengths?[b] ?? steps }

    /// Whether processing step `s` is padding for sample `b`.
    @inline(__always) func isPadding(_ s: Int, _ b: Int) -> Bool { s >= length(b) }

    /// The input time that processing step `s` of sample `b` reads (padding reads its own
    /// position, so that the map stays one to one).
    @inline(__always) func time(_ s: Int, _ b: Int) -> Int {
        let length = length(b)
        return s >= length || !reversed ? s : length - 1 - s
    }

    /// Where processing step `s` of sample `b` goes in a returned sequence: processing order, as
    /// Keras returns a `go_backwards` layer's outputs (the padding, reversed with the sequence, first).
    @inline(__always) func outputPosition(_ s: Int, _ b: Int) -> Int {
        reversed ? (s + steps - length(b)) % steps : s
    }

    /// Calls `body` with each sample of `rows` for which processing step `s` is padding; before
    /// the shortest length (and without lengths) at once, with no work: it runs in the time loop.
    @inline(__always) func forEachPaddedRow(at s: Int, in rows: Range<Int>, _ body: (Int) -> Void) {
        guard let lengths, s >= shortest else { return }
        for b in rows where lengths[b] <= s { body(b) }
    }
}

/// Moves sequences between the batch-major layout of tensors, `[batch, steps, width]`, and the
/// time-major layout recurrent layers work in, `[steps, batch, width]`, where each step's rows lie
/// together (one product per step), in the processing order of a ``StepOrder``.
enum TimeMajor {
    /// `destination[s, b] = source[b, order.time(s, b)]`.
    static func gather(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                       batch: Int, order: StepOrder, width: Int) {
        for s in 0..<order.steps {
            for b in 0..<batch {
                (destination + (s * batch + b) * width)
                    .update(from: source + (b * order.steps + order.time(s, b)) * width, count: width)
            }
        }
    }

    /// The inverse of ``gather(_:into:batch:order:width:)`` (an input gradient back to input order).
    static func scatter(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                        batch: Int, order: StepOrder, width: Int) {
        for s in 0..<order.steps {
            for b in 0..<batch {
                (destination + (b * order.steps + order.time(s, b)) * width)
                    .update(from: source + (s * batch + b) * width, count: width)
            }
        }
    }

    /// A returned sequence from time-major outputs: `destination[b, outputPosition(s, b)]` is
    /// `source[s, b]`, or zeros where step `s` is padding.
    static func scatterOutputs(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                               batch: Int, order: StepOrder, width: Int) {
        for s in 0..<order.steps {
            for b in 0..<batch {
                let row = destination + (b * order.steps + order.outputPosition(s, b)) * width
                if order.isPadding(s, b) {
                    row.update(repeating: 0, count: width)
                } else {
                    row.update(from: source + (s * batch + b) * width, count: width)
                }
            }
        }
    }

    /// A recurrent layer's whole gradient at processing step `s`, into `dh` (`[batch, units]`):
    /// `carried` (what h_s fed to the next step) plus the output's gradient at that step, from
    /// `dy` (`[batch, steps, units]` with every step's outputs, `[batch, units]` with the last's).
    /// Padding steps output constant zeros, so their output gradient does not count.
    static func stepGradient(_ dh: UnsafeMutablePointer<Float>, carried: UnsafePointer<Float>,
                             outputGradient dy: UnsafePointer<Float>, step s: Int, order: StepOrder, batch: Int,
                             units: Int, returnSequences: Bool, backend: any Backend) {
        dh.update(from: carried, count: batch * units)
        if returnSequences {
            for b in 0..<batch where !order.isPadding(s, b) {
                backend.add(dy + (b * order.steps + order.outputPosition(s, b)) * units, into: dh + b * units, count: units)
            }
        } else if s == order.steps - 1 {
            backend.add(dy, into: dh, count: batch * units)
        }
    }
}

/// What padding steps do to a recurrent layer's state rows: forward, a padded sample's state is
/// copied on unchanged; backward, its gradients are set aside before the step (so the step, linear
/// in them, gives that sample nothing: no parameter or input gradient) and passed on unchanged
/// after it.
struct PaddedRows {
    // Reused from step to step: nothing is allocated in the time loop once they have grown.
    private var rows: [Int] = []
    private var saved: [Float] = []

    /// The state of the padded samples at step `s` stays what it was: `next` rows = `previous`
    /// rows (zeros when `previous` is nil, before the first step). Rows are `width` apart.
    static func carryState(order: StepOrder, step s: Int, rows range: Range<Int>, previous: UnsafePointer<Float>?,
                           next: UnsafeMutablePointer<Float>, stride: Int, width: Int) {
        order.forEachPaddedRow(at: s, in: range) { b in
            if let previous {
                (next + b * stride).update(from: previous + b * stride, count: width)
            } else {
                (next + b * stride).update(repeating: 0, count: width)
            }
        }
    }

    /// Before the backward step `s`: keeps and zeroes the padded samples' rows of `first` (and
    /// `second`), each `[batch, width]` with rows `stride` apart.
    mutating func setAside(order: StepOrder, step s: Int, rows range: Range<Int>, _ first: UnsafeMutablePointer<Float>,
                           _ second: UnsafeMutablePointer<Float>? = nil, stride: Int, width: Int) {
        rows.removeAll(keepingCapacity: true)
        saved.removeAll(keepingCapacity: true)
        order.forEachPaddedRow(at: s, in: range) { rows.append($0) }
        guard !rows.isEmpty else { return }
        for gradient in [first, second] {
            guard let gradient else { continue }
            for b in rows {
                let row = gradient + b * stride
                saved.append(contentsOf: UnsafeBufferPointer(start: row, count: width))
                row.update(repeating: 0, count: width)
            }
        }
    }

    /// After the backward step: the set-aside rows go, unchanged, into `first` (and `second`),
    /// the gradients carried to the step before, in the order they were set aside.
    func passOn(into first: UnsafeMutablePointer<Float>, _ second: UnsafeMutablePointer<Float>? = nil,
                stride: Int, width: Int) {
        guard !rows.isEmpty else { return }
        var offset = 0
        saved.withUnsafeBufferPointer { values in
            for destination in [first, second] {
                guard let destination else { continue }
                for b in rows {
                    (destination + b * stride).update(from: values.baseAddress! + offset, count: width)
                    offset += width
                }
            }
        }
    }
}
