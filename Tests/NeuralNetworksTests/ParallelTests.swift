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
}
