import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a request that training sees after the current batch, so that
/// it can write a checkpoint and say how to resume. A second signal ends the process at once.
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// The signal received, if any.
    var signal: Int32? { lock.withLock { received } }

    static func install(_ signals: [Int32] = [SIGINT, SIGTERM]) -> StopRequest {
        let request = StopRequest()
        for number in signals {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { request.receive(number) }
            source.resume()
            request.sources.append(source)
        }
        return request
    }

    private func receive(_ number: Int32) {
        let first: Bool = lock.withLock {
            defer { received = received ?? number }
            return received == nil
        }
        if first {
            FileHandle.standardError.write(Data("\nnn: stopping after this batch (again to quit at once)\n".utf8))
        } else {
            _exit(128 + number)
        }
    }
}
