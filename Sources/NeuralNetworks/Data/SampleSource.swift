/// Where a data set's input values (or dense targets) come from: IDX bytes, NumPy arrays
/// (memory-mapped), CSV columns, image files read per batch, or a user's own type. A
/// ``Dataset`` pairs one with its targets; `fit`, `evaluate` and `predict` see only this.
///
/// Sources are read from batches on one thread at a time; a source that reads files throws an
/// error naming the file when one turns out bad.
public protocol SampleSource: Sendable {
    /// Samples in the source.
    var count: Int { get }
    /// One sample's shape (`[28, 28]`, `[32, 32, 3]`, `[20]`).
    var sampleShape: [Int] { get }
    /// Where sample `index` comes from, for errors (the file, and the sample's place in it).
    func origin(of index: Int) -> String
    /// Writes the values of the samples at `indices`, one sample after another, into
    /// `destination` (which holds `indices.count × sampleShape.product` values).
    func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws
}

extension SampleSource {
    public func origin(of index: Int) -> String { "sample \(index)" }

    /// Values per sample.
    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// The samples at `indices` as a `[indices.count] + sampleShape` tensor.
    public func tensor(_ indices: [Int]) throws -> Tensor {
        var scalars = [Float](repeating: 0, count: indices.count * sampleSize)
        try scalars.withUnsafeMutableBufferPointer { try read(indices, into: $0) }
        return Tensor(shape: [indices.count] + sampleShape, scalars: scalars)
    }
}

/// Byte samples kept in memory and read as pixels in [0, 1] (value ÷ 255), as IDX images and
/// decoded PNG images are: a data set costs one byte per value.
public struct ByteSamples: SampleSource {
    public let bytes: [UInt8]
    public let count: Int
    public let sampleShape: [Int]

    /// `bytes` holds `count` samples of `sampleShape`, one after another.
    public init(bytes: [UInt8], sampleShape: [Int]) {
        let size = sampleShape.reduce(1, *)
        precondition(size > 0 && bytes.count % size == 0, "\(bytes.count) bytes are not samples of \(sampleShape)")
        (self.bytes, self.sampleShape, self.count) = (bytes, sampleShape, bytes.count / size)
    }

    public func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        let size = sampleSize
        bytes.withUnsafeBufferPointer { pixels in
            for (slot, index) in indices.enumerated() {
                let source = pixels.baseAddress! + index * size
                let target = destination.baseAddress! + slot * size
                for k in 0..<size { target[k] = Float(source[k]) / 255 }
            }
        }
    }
}

/// Float samples kept in memory, read as they are (CSV features, dense targets).
public struct FloatSamples: SampleSource {
    public let values: [Float]
    public let count: Int
    public let sampleShape: [Int]
    /// The file the values came from, for errors.
    public var file: String?

    public func origin(of index: Int) -> String { file.map { "\($0): sample \(index)" } ?? "sample \(index)" }

    public init(values: [Float], sampleShape: [Int]) {
        let size = sampleShape.reduce(1, *)
        precondition(size > 0 && values.count % size == 0, "\(values.count) values are not samples of \(sampleShape)")
        (self.values, self.sampleShape, self.count) = (values, sampleShape, values.count / size)
    }

    public func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        let size = sampleSize
        values.withUnsafeBufferPointer { source in
            for (slot, index) in indices.enumerated() {
                (destination.baseAddress! + slot * size).update(from: source.baseAddress! + index * size, count: size)
            }
        }
    }
}

/// Some samples of another source, in a given order (a validation split, a prefix): no copy.
public struct SampleSubset: SampleSource {
    public let base: any SampleSource
    public let indices: [Int]
    public var count: Int { indices.count }
    public var sampleShape: [Int] { base.sampleShape }

    public init(_ base: any SampleSource, indices: [Int]) {
        precondition(indices.allSatisfy { (0..<base.count).contains($0) }, "subset indices outside the source")
        (self.base, self.indices) = (base, indices)
    }

    public func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        try base.read(indices.map { self.indices[$0] }, into: destination)
    }

    public func origin(of index: Int) -> String { base.origin(of: indices[index]) }
}
