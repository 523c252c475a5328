/// A growable block of `Float`s owned by a layer as workspace: allocated once for the largest
/// batch seen and reused, so that nothing allocates inside the time loop.
public final class FloatBuffer: @unchecked Sendable {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(count: Int = 0) {
        capacity = max(count, 1)
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats; the contents are undefined after a growth.
    public func reserve(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        capacity = count
        pointer = .allocate(capacity: capacity)
        pointer.initialize(repeating: 0, count: capacity)
    }

    public func zero(_ count: Int) {
        precondition(count <= capacity)
        pointer.update(repeating: 0, count: count)
    }
}

extension Tensor {
    /// A tensor whose every value `fill` writes (a product with β = 0, rows set to a bias):
    /// nothing is zeroed first.
    init(shape: [Int], filledBy fill: (UnsafeMutablePointer<Float>) -> Void) {
        let count = shape.reduce(1, *)
        self.init(shape: shape, scalars: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { fill(buffer.baseAddress!) }
            initialized = count
        })
    }

    /// Copies `count` floats from `source` into a new tensor of `shape`.
    init(shape: [Int], copying source: UnsafePointer<Float>) {
        let count = shape.reduce(1, *)
        self.init(shape: shape, scalars: [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.initialize(from: source, count: count)
            initialized = count
        })
    }
}

/// Hands a pointer to a closure that runs on another thread (Swift 6 cannot prove it safe;
/// each user guarantees that the threads touch disjoint memory).
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: T
    init(_ pointer: T) { self.pointer = pointer }
}
