import CFloatControl
import Dispatch

/// Work split over threads: the layers' only use of concurrency.
enum Parallel {
    /// Runs `body(0)`, …, `body(count − 1)`, on several threads when `count` > 1 and on the
    /// calling thread alone otherwise. Each call must touch memory no other call writes.
    /// Every thread flushes denormals to zero first (see ``Denormals``). The spinning workers of
    /// ``SpinPool`` take the region when they are free, libdispatch's threads otherwise.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        Denormals.flushToZero()
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        if SpinPool.shared.run(count, body) { return }
        withoutActuallyEscaping(body) { body in
            let work = SendablePointer(body)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                Denormals.flushToZero()
                work.pointer(index)
            }
        }
    }

    /// `0..<total` cut into `parts` contiguous ranges whose sizes differ by one at most (the
    /// larger first); fewer when `total` < `parts`, none when `total` is 0.
    static func split(_ total: Int, into parts: Int) -> [Range<Int>] {
        let count = min(max(parts, 1), total)
        guard count > 0 else { return [] }
        let base = total / count, extra = total % count
        var ranges: [Range<Int>] = [], start = 0
        for part in 0..<count {
            let size = base + (part < extra ? 1 : 0)
            ranges.append(start..<(start + size))
            start += size
        }
        return ranges
    }
}

/// Denormal floats flushed to zero on the calling thread. A decaying recurrent state otherwise
/// turns into denormals, each costing 50–100 cycles: a 784-step sequence ran 20× slower per step
/// than a 28-step one. Flushing changes results only below 1.2e-38. Every thread that computes
/// calls it: the model's passes and every `Parallel.forEach` thread.
public enum Denormals {
    @inline(__always) public static func flushToZero() { nn_flush_denormals() }
    /// Whether the calling thread flushes them.
    public static var flushed: Bool { nn_flushes_denormals() != 0 }
}
