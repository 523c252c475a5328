import Dispatch

/// Work split over threads: the layers' only use of concurrency.
enum Parallel {
    /// Runs `body(0)`, …, `body(count − 1)`, on `count` threads at once when `count` > 1 and on the
    /// calling thread alone otherwise. Each call must touch memory no other call writes.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = SendablePointer(body)
            DispatchQueue.concurrentPerform(iterations: count) { work.pointer($0) }
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
