/// Moves sequences between the batch-major layout of tensors, `[batch, steps, width]`, and the
/// time-major layout recurrent layers work in, `[steps, batch, width]`, where each step's rows lie
/// together (one product per step). `reversed` orders the steps from the sequence's last (a layer
/// that goes backwards processes them that way).
enum TimeMajor {
    /// `destination[s, b] = source[b, t(s)]`, with t(s) = s, or steps − 1 − s when `reversed`.
    static func gather(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                       batch: Int, steps: Int, width: Int, reversed: Bool) {
        for s in 0..<steps {
            let t = reversed ? steps - 1 - s : s
            for b in 0..<batch {
                (destination + (s * batch + b) * width).update(from: source + (b * steps + t) * width, count: width)
            }
        }
    }

    /// The inverse of ``gather(_:into:batch:steps:width:reversed:)``: `destination[b, t(s)] = source[s, b]`.
    static func scatter(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>,
                        batch: Int, steps: Int, width: Int, reversed: Bool) {
        for s in 0..<steps {
            let t = reversed ? steps - 1 - s : s
            for b in 0..<batch {
                (destination + (b * steps + t) * width).update(from: source + (s * batch + b) * width, count: width)
            }
        }
    }

    /// A recurrent layer's whole gradient at processing step `s`, into `dh` (`[batch, units]`):
    /// `carried` (what h_s fed to the next step) plus the output's gradient at that step, from
    /// `dy` (`[batch, steps, units]` with every step's outputs, `[batch, units]` with the last's).
    static func stepGradient(_ dh: UnsafeMutablePointer<Float>, carried: UnsafePointer<Float>,
                             outputGradient dy: UnsafePointer<Float>, step s: Int, steps: Int, batch: Int, units: Int,
                             returnSequences: Bool, backend: any Backend) {
        dh.update(from: carried, count: batch * units)
        if returnSequences {
            for b in 0..<batch { backend.add(dy + (b * steps + s) * units, into: dh + b * units, count: units) }
        } else if s == steps - 1 {
            backend.add(dy, into: dh, count: batch * units)
        }
    }
}
