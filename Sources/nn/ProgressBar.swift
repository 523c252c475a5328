import Foundation
import NeuralNetworks

/// A one-line progress bar on stderr, redrawn in place; only when stderr is a terminal, so logs
/// and pipes stay clean. The first batch (slow: buffers are allocated) is left out of the ETA.
final class ProgressBar {
    private let epochs: Int
    private var lastDraw = Date.distantPast

    /// nil when stderr is not a terminal.
    static func make(epochs: Int) -> ProgressBar? {
        isatty(STDERR_FILENO) == 1 ? ProgressBar(epochs: epochs) : nil
    }

    private init(epochs: Int) { self.epochs = epochs }

    func update(_ p: BatchProgress) {
        let now = Date()
        guard p.samplesDone == p.samplesTotal || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let width = 30
        let filled = width * p.samplesDone / p.samplesTotal
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        let timed = p.samplesDone - p.firstBatchSamples
        let rate = timed > 0 ? Double(timed) / max(p.seconds - p.firstBatchSeconds, 1e-9) : 0
        let eta = rate > 0 ? Double(p.samplesTotal - p.samplesDone) / rate : 0
        let line = String(format: "epoch %d/%d %d/%d [%@] %.0f samples/s ETA %@ loss %.4f accuracy %.4f",
                          p.epoch, epochs, p.samplesDone, p.samplesTotal, bar, rate, Self.clock(eta),
                          p.loss, p.accuracy)
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? String(format: "%d:%02d", s / 60, s % 60) : "\(s)s"
    }
}
