/// Lowers the learning rate when the validation loss stops improving, as Keras'
/// `ReduceLROnPlateau(monitor="val_loss", factor, patience, min_delta, cooldown, min_lr)` does:
/// after `patience` epochs in a row whose test loss is not below the best by more than
/// `minDelta`, the rate is multiplied by `factor` (not below `minimumLearningRate`), and the
/// next `cooldown` epochs count toward no reduction. The rate is the optimizer's base rate times
/// the factor, with its schedule still beneath. Decided from the history alone, so a resumed run
/// (whose history the checkpoint keeps) lowers it where the uninterrupted one would.
public struct ReduceLearningRateOnPlateau: Sendable, Equatable {
    public var factor: Float
    public var patience: Int
    public var minDelta: Float
    public var cooldown: Int
    /// The base learning rate times the factor never goes below this.
    public var minimumLearningRate: Float

    /// Keras' defaults.
    public init(factor: Float = 0.1, patience: Int = 10, minDelta: Float = 1e-4, cooldown: Int = 0,
                minimumLearningRate: Float = 0) throws {
        guard factor.isFinite, factor > 0, factor < 1 else { throw ShapeError("the plateau factor must be in (0, 1), got \(factor)") }
        guard patience >= 0, cooldown >= 0 else { throw ShapeError("the plateau patience and cooldown must be ≥ 0") }
        guard minDelta.isFinite, minDelta >= 0, minimumLearningRate.isFinite, minimumLearningRate >= 0 else {
            throw ShapeError("the plateau min_delta and min_lr must be finite numbers ≥ 0")
        }
        (self.factor, self.patience, self.minDelta) = (factor, patience, minDelta)
        (self.cooldown, self.minimumLearningRate) = (cooldown, minimumLearningRate)
    }

    /// The learning rate after the epochs of `history`, for a run that started at `initial`,
    /// and the epochs (1-based) after which it was lowered.
    public func learningRate(after history: [EpochReport], initial: Float) -> (rate: Float, loweredAfter: [Int]) {
        var (rate, best, wait, cooling) = (initial, Float.infinity, 0, 0)
        var lowered: [Int] = []
        for report in history {
            guard let loss = report.testLoss else { continue }  // Keras skips an epoch without the value
            if cooling > 0 { (cooling, wait) = (cooling - 1, 0) }
            // NaN is no improvement: the comparison is false.
            if loss < best - minDelta {
                (best, wait) = (loss, 0)
            } else if cooling == 0 {
                wait += 1
                if wait >= patience && rate > minimumLearningRate {
                    rate = max(rate * factor, minimumLearningRate)
                    (cooling, wait) = (cooldown, 0)
                    lowered.append(report.epoch)
                }
            }
        }
        return (rate, lowered)
    }
}
