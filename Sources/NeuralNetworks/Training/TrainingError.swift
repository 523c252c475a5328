/// Training stopped by a numerical fault: a NaN or an infinity in the loss or in a gradient.
public struct TrainingError: Error, Equatable, CustomStringConvertible {
    public let epoch: Int
    /// 1-based batch of the epoch.
    public let batch: Int
    /// `loss`, or the parameter whose gradient is not finite (its name starts with its layer's).
    public let location: String
    /// Whether it is the parameter's values, found after the epoch's updates (an overflowing step;
    /// `batch` is then the epoch's last), not its gradient.
    public var afterUpdate = false

    public init(epoch: Int, batch: Int, location: String, afterUpdate: Bool = false) {
        (self.epoch, self.batch, self.location, self.afterUpdate) = (epoch, batch, location, afterUpdate)
    }

    public var description: String {
        if afterUpdate {
            return "\(location) is not finite (NaN or infinity) after the updates of epoch \(epoch): training stopped; "
                + "try a lower --learning-rate or --clip-norm 1.0"
        }
        let what = location == "loss" ? "the loss" : "the gradient of \(location)"
        return "\(what) is not finite (NaN or infinity) at epoch \(epoch), batch \(batch): training stopped; "
            + "try --clip-norm 1.0 or a lower --learning-rate"
    }
}

enum GradientNorm {
    /// Each parameter's squared gradient norm, in Double so that large gradients do not overflow:
    /// blocks of 4096 values summed in float32 lanes, the blocks added in order in Double. The
    /// blocks are spread over `threads` threads; the sums are the same for any count.
    static func squaredNorms(_ parameters: [Parameter], threads: Int = 1) -> [Double] {
        let block = 4096
        var blocks: [(parameter: Parameter, start: Int)] = []
        for parameter in parameters {
            for start in stride(from: 0, to: parameter.count, by: block) { blocks.append((parameter, start)) }
        }
        var sums = [Double](repeating: 0, count: blocks.count)
        let parts = Parallel.split(blocks.count, into: min(threads, max(1, blocks.count / 16)))
        sums.withUnsafeMutableBufferPointer { sums in
            let sums = sums
            Parallel.forEach(parts.count) { part in
                for index in parts[part] {
                    let (parameter, start) = blocks[index], end = min(start + block, parameter.count)
                    var partial = Vector()
                    for i in stride(from: start, to: end, by: 8) {
                        let g = VectorMath.load(parameter.gradient + i, count: min(8, end - i))
                        partial += g * g
                    }
                    sums[index] = Double(partial.sum())
                }
            }
        }
        var result: [Double] = [], index = 0
        for parameter in parameters {
            var sum: Double = 0
            for _ in stride(from: 0, to: parameter.count, by: block) {
                sum += sums[index]
                index += 1
            }
            result.append(sum)
        }
        return result
    }

    /// Zeroes every gradient, the values spread over `threads` threads (2.7 MB a batch for the
    /// mlp preset: 5% of its training cycles on one thread).
    static func zero(_ parameters: [Parameter], threads: Int) {
        ElementwiseUpdate.run(parameters, slots: [], state: OptimizerState(), threads: threads) { piece in
            (piece.parameter.gradients + piece.range.lowerBound).update(repeating: 0, count: piece.range.count)
        }
        for parameter in parameters where !parameter.isTrainable { parameter.zeroGradient() }
    }

    /// Clamps every gradient value to [−maxValue, maxValue] (Keras' `clipvalue`, PyTorch's `clip_grad_value_`).
    static func clip(_ parameters: [Parameter], maxValue: Float) {
        for parameter in parameters {
            VectorMath.map(parameter.gradient, parameter.gradient, count: parameter.count) {
                VectorMath.minimum(VectorMath.maximum($0, -maxValue), maxValue)
            }
        }
    }

    /// Scales every gradient so that their global norm is at most `maxNorm` (PyTorch's
    /// `clip_grad_norm_`, Keras' `global_clipnorm`); returns the norm before clipping.
    @discardableResult
    static func clip(_ parameters: [Parameter], maxNorm: Float, squaredNorms: [Double]) -> Double {
        let norm = squaredNorms.reduce(0, +).squareRoot()
        guard norm > Double(maxNorm) else { return norm }
        let scale = Float(Double(maxNorm) / (norm + 1e-6))
        for parameter in parameters {
            VectorMath.map(parameter.gradient, parameter.gradient, count: parameter.count) { $0 * scale }
        }
        return norm
    }
}

/// A training step cut short by a stop request (``ForwardContext/stopRequested``): nothing was updated.
struct TrainingInterrupted: Error {}
