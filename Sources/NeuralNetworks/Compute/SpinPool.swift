import CFloatControl
import Dispatch
import Foundation
import Synchronization

/// Worker threads that wait for the next parallel region by spinning a moment before they sleep,
/// as OpenMP's do. Waking a sleeping libdispatch worker cost 20–40 µs per region on the
/// 2-core VMs (measured), and a training step of the mlp preset runs about 15 regions. One
/// region runs at a time: a caller that finds the pool busy (a nested region, another thread's)
/// takes libdispatch's `concurrentPerform` instead, so any call pattern stays correct.
final class SpinPool: @unchecked Sendable {
    /// One worker fewer than the processors: the caller runs its share too.
    static let shared = SpinPool(workers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    /// A region: indices handed out by `next`, the body read through a pointer to the caller's
    /// stack (so that no worker holds the closure once the caller returns; an index is only ever
    /// claimed while the caller waits).
    private final class Region: @unchecked Sendable {
        let count: Int
        let body: UnsafeRawPointer  // → (Int) -> Void on the caller's stack
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        init(count: Int, body: UnsafeRawPointer) { (self.count, self.body) = (count, body) }

        /// Runs indices until none is left. The body is read only for a claimed index, and its
        /// call returns (releasing anything it retained) before the index counts as finished.
        func work() {
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                Self.call(body, index)
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }

        @inline(never)
        private static func call(_ body: UnsafeRawPointer, _ index: Int) {
            body.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
        }
    }

    let workers: Int
    private let busy = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let lock = NSCondition()
    private var current: Region?
    private var sleepers = 0
    /// How long an idle worker spins before it sleeps.
    private static let spinNanoseconds: UInt64 = 200_000

    init(workers: Int) {
        self.workers = workers
        for _ in 0..<workers {
            let thread = Thread { [unowned self] in self.serve() }
            thread.stackSize = 1 << 22
            thread.start()
        }
    }

    /// Runs `body(0)`, …, `body(count − 1)` on the workers and the calling thread; false (and
    /// nothing run) when the pool is busy.
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        guard workers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { pointer in
                let region = Region(count: count, body: UnsafeRawPointer(pointer))
                // Published under the lock, so that a worker about to sleep sees the new generation.
                lock.lock()
                current = region
                generation.wrappingAdd(1, ordering: .releasing)
                let wake = sleepers > 0
                lock.unlock()
                if wake { lock.broadcast() }
                region.work()
                while region.finished.load(ordering: .acquiring) < count { spinPause() }
                lock.lock()
                current = nil
                lock.unlock()
            }
        }
        return true
    }

    private func serve() {
        Denormals.flushToZero()
        var seen = generation.load(ordering: .acquiring)
        while true {
            let started = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 255 == 0, DispatchTime.now().uptimeNanoseconds - started > Self.spinNanoseconds {
                    lock.lock()
                    sleepers += 1
                    while generation.load(ordering: .acquiring) == seen { lock.wait() }
                    sleepers -= 1
                    lock.unlock()
                    break
                }
                spinPause()
            }
            seen = generation.load(ordering: .acquiring)
            lock.lock()
            let region = current
            lock.unlock()
            region?.work()
        }
    }
}

@inline(__always) private func spinPause() { nn_cpu_relax() }
