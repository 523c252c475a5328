/// Stops training once the validation loss has not improved for `patience` epochs, as Keras'
/// `EarlyStopping(monitor="val_loss", patience=…, min_delta=…)` does: an epoch improves when its
/// test loss is below the best so far by more than `minDelta`, and training stops after the
/// `patience`-th epoch in a row without improvement (patience 0 as 1: after the first). Decided
/// from the history alone, so a resumed run (whose history the checkpoint keeps) decides as the
/// uninterrupted one would.
public struct EarlyStopping: Sendable, Equatable {
    /// Epochs in a row without improvement after which training stops (0 acts as 1, as in Keras).
    public var patience: Int
    /// How much lower than the best the test loss must be to count as an improvement.
    public var minDelta: Float

    public init(patience: Int, minDelta: Float = 0) {
        precondition(patience >= 0 && minDelta >= 0 && minDelta.isFinite, "patience and min delta must be ≥ 0")
        (self.patience, self.minDelta) = (patience, minDelta)
    }

    /// The epoch with the best test loss in `history` (the first improvement that was not beaten
    /// by more than `minDelta`), and how many epochs have passed since it.
    public func best(in history: [EpochReport]) -> (report: EpochReport, epochsSince: Int)? {
        var best: EpochReport?
        var since = 0
        for report in history {
            // NaN is no improvement: the comparison is false.
            if let loss = report.testLoss, loss + minDelta < (best?.testLoss ?? .infinity) {
                (best, since) = (report, 0)
            } else {
                since += 1
            }
        }
        return best.map { ($0, since) }
    }

    /// Whether training should stop after the epochs of `history`.
    public func stops(after history: [EpochReport]) -> Bool {
        guard let last = history.last, last.testLoss != nil else { return false }
        let since = best(in: history)?.epochsSince ?? history.count
        return since > 0 && since >= patience
    }
}
