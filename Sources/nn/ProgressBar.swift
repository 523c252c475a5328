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
        FileHandle.standardError.write(Data("\r\u{1B}[K\(Self.line(p, epochs: epochs, columns: Self.terminalColumns()))".utf8))
    }

    /// The terminal's width (TIOCGWINSZ), 80 when it does not say.
    static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// The bar's text in at most `columns − 1` characters (a full line would wrap and leave a stale
    /// copy at each redraw): parts are dropped, least useful first, and the bar shrinks. The rate
    /// and ETA appear once a batch after the first (slow) one has been timed.
    static func line(_ p: BatchProgress, epochs: Int, columns: Int) -> String {
        let timed = p.samplesDone - p.firstBatchSamples
        let rate = timed > 0 ? Double(timed) / max(p.seconds - p.firstBatchSeconds, 1e-9) : nil
        let eta = rate.map { Double(p.samplesTotal - p.samplesDone) / $0 }
        let head = "epoch \(p.epoch)/\(epochs) \(p.samplesDone)/\(p.samplesTotal)"
        var tails = [String(format: "loss %.4f", p.loss)] + [p.accuracy.map { String(format: "accuracy %.4f", $0) }].compactMap { $0 }
        if let rate, let eta { tails.insert(String(format: "%.0f samples/s ETA %@", rate, clock(eta)), at: 0) }
        let limit = max(columns - 1, 10)
        while true {
            let rest = ([head] + tails).joined(separator: " ")
            let room = limit - rest.count - 3  // " [" and "]"
            if room >= 10 || tails.isEmpty {
                let width = max(0, min(30, room))
                guard width >= 3 else { return String(rest.prefix(limit)) }
                let filled = width * p.samplesDone / max(p.samplesTotal, 1)
                let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
                    + String(repeating: " ", count: max(0, width - filled - 1))
                return ([head, "[\(bar)]"] + tails).joined(separator: " ")
            }
            tails.removeLast()
        }
    }

    func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? String(format: "%d:%02d", s / 60, s % 60) : "\(s)s"
    }
}
