import Foundation

/// A ``Communicator`` whose members are threads of one process: `ThreadGroup.make(size:)` gives
/// one per member, each used by its own thread. Reductions add in rank order, so a run repeats
/// exactly. For tests of data-parallel training and for trying it without MPI.
public final class ThreadGroup: Communicator, @unchecked Sendable {
    public let rank: Int
    public var size: Int { shared.size }
    private let shared: Shared

    /// What the members meet on: a slot per member and a generation counter, so that a fast
    /// member cannot enter the next operation before every member has read this one's result.
    private final class Shared: @unchecked Sendable {
        let size: Int
        let condition = NSCondition()
        var slots: [[Double]]
        var arrived = 0, generation = 0, leaving = 0
        var result: [Double] = []
        init(size: Int) {
            self.size = size
            slots = Array(repeating: [], count: size)
        }
    }

    private init(rank: Int, shared: Shared) {
        self.rank = rank
        self.shared = shared
    }

    /// One communicator per member, rank order.
    public static func make(size: Int) -> [ThreadGroup] {
        precondition(size > 0, "a group needs a member")
        let shared = Shared(size: size)
        return (0..<size).map { ThreadGroup(rank: $0, shared: shared) }
    }

    /// Every member hands in `values`; every member gets `combine` of all of them (in rank order).
    private func exchange(_ values: [Double], _ combine: ([[Double]]) -> [Double]) -> [Double] {
        let s = shared
        s.condition.lock()
        defer { s.condition.unlock() }
        // Wait until the previous operation's result has been read by everyone.
        while s.leaving > 0 { s.condition.wait() }
        s.slots[rank] = values
        s.arrived += 1
        let generation = s.generation
        if s.arrived == s.size {
            s.result = combine(s.slots)
            s.arrived = 0
            s.leaving = s.size
            s.generation += 1
            s.condition.broadcast()
        } else {
            while s.generation == generation { s.condition.wait() }
        }
        let result = s.result
        s.leaving -= 1
        if s.leaving == 0 { s.condition.broadcast() }
        return result
    }

    private func reduce(_ values: [Double], _ operation: ReduceOperation) throws -> [Double] {
        exchange(values) { slots in
            guard slots.allSatisfy({ $0.count == slots[0].count }) else {
                preconditionFailure("thread group: members reduced different counts")
            }
            return slots.dropFirst().reduce(slots[0]) { zip($0, $1).map { operation.combine($0, $1) } }
        }
    }

    public func allreduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws {
        // Float sums in float, in rank order, as MPI adds float buffers.
        let result = exchange(values.map(Double.init)) { slots in
            var sums = slots[0].map(Float.init)
            for slot in slots.dropFirst() {
                for i in sums.indices { sums[i] = operation.combine(sums[i], Float(slot[i])) }
            }
            return sums.map(Double.init)
        }
        for i in values.indices { values[i] = Float(result[i]) }
    }

    public func allreduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) throws {
        let result = try reduce(Array(values), operation)
        for i in values.indices { values[i] = result[i] }
    }

    public func broadcast(_ bytes: inout [UInt8], root: Int) throws {
        precondition((0..<size).contains(root), "thread group: no member \(root)")
        let result = exchange(bytes.map(Double.init)) { $0[root] }
        bytes = result.map { UInt8($0) }
    }
}
