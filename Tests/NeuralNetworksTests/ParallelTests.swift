import Dispatch
import Testing
@testable import NeuralNetworks

struct ParallelTests {
    @Test(arguments: [(10, 3), (7, 7), (2, 5), (128, 2), (1, 1), (0, 4)])
    func splitCoversTheRangeInNearlyEqualContiguousParts(total: Int, parts: Int) {
        let ranges = Parallel.split(total, into: parts)
        #expect(ranges.count == min(parts, total))
        #expect(ranges.flatMap { Array($0) } == Array(0..<total))
        let sizes = ranges.map(\.count)
        #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
        #expect(sizes.allSatisfy { $0 > 0 })
    }

    @Test(arguments: [1, 2, 5])
    func forEachRunsEveryIndexOnce(count: Int) {
        var visits = [Int](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            Parallel.forEach(count) { slots[$0] += 1 }
        }
        #expect(visits == [Int](repeating: 1, count: count))
    }

    /// The spinning workers under the patterns training makes: thousands of regions in a row,
    /// regions nested inside regions (a direction's row groups), and several threads starting
    /// regions at once (tests run in parallel): every index runs exactly once, nothing hangs.
    @Test func spinPoolRunsEveryIndexOnceUnderNestingAndConcurrentCallers() {
        let rounds = 2000
        var visits = [Int](repeating: 0, count: 4 * 6)
        visits.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            for _ in 0..<rounds {
                Parallel.forEach(4) { outer in
                    Parallel.forEach(6) { inner in slots[outer * 6 + inner] += 1 }
                }
            }
        }
        #expect(visits == [Int](repeating: rounds, count: 24))

        var totals = [Int](repeating: 0, count: 3 * 5)
        totals.withUnsafeMutableBufferPointer { buffer in
            let slots = SendablePointer(buffer)
            DispatchQueue.concurrentPerform(iterations: 3) { caller in
                for _ in 0..<rounds { Parallel.forEach(5) { slots.pointer[caller * 5 + $0] += 1 } }
            }
        }
        #expect(totals == [Int](repeating: rounds, count: 15))
    }
}
