/// How one process of a data-parallel run talks to the others: the few collective operations
/// that synchronous training needs. ``OpenMPI`` implements it over Open MPI (several machines);
/// ``ThreadGroup`` over threads of one process (tests, and trying the scheme without MPI).
///
/// Every member must call the same operations in the same order with the same counts: they are
/// collective, and a member that skips one leaves the others waiting.
public protocol Communicator: AnyObject {
    /// This member's index, 0 ..< ``size``; rank 0 prints and writes files.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `values` on every member with the element-wise reduction over all members.
    func allreduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReduceOperation) throws
    func allreduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReduceOperation) throws
    /// Replaces `bytes` on every member with rank `root`'s (any length: the length travels first).
    func broadcast(_ bytes: inout [UInt8], root: Int) throws
}

public enum ReduceOperation: Sendable {
    case sum, minimum, maximum

    func combine<T: FloatingPoint>(_ a: T, _ b: T) -> T {
        switch self {
        case .sum: return a + b
        case .minimum: return min(a, b)
        case .maximum: return max(a, b)
        }
    }
}

/// A collective operation that failed (a member gone, a transport error), or a run whose
/// members disagree.
public struct DistributedError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Communicator {
    /// The reduction of a few numbers, as an array.
    public func allreduce(_ values: [Double], _ operation: ReduceOperation) throws -> [Double] {
        var result = values
        try result.withUnsafeMutableBufferPointer { try allreduce($0, operation) }
        return result
    }

    /// Whether every member passes `ok` (each learns whether all did).
    public func allAgree(_ ok: Bool) throws -> Bool {
        try allreduce([ok ? 1 : 0], .minimum)[0] == 1
    }

    /// `text` as rank `root` has it.
    public func broadcast(_ text: String, root: Int = 0) throws -> String {
        var bytes = Array(text.utf8)
        try broadcast(&bytes, root: root)
        return String(decoding: bytes, as: UTF8.self)
    }
}
