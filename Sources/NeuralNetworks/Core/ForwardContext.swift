import Foundation

/// What a forward pass runs with: whether it is training (dropout drops, noise is added), the
/// ``Backend`` that computes it (the backward pass runs on the same one), and a random stream for
/// each layer that draws, derived from the run's seed and the layer's path so that runs repeat and
/// a checkpoint resumes them exactly (see ``RandomStreams``).
public final class ForwardContext: @unchecked Sendable {
    public let training: Bool
    public let backend: any Backend
    public let streams: RandomStreams
    /// Asked between time steps by long passes (``LSTM``): true when the run should stop now
    /// (Ctrl-C). A pass that sees it may return garbage; the training step then makes no update.
    public let stopRequested: (@Sendable () -> Bool)?
    /// For sequences padded to a common length: each sample's number of valid steps, in batch
    /// order (nil: every step of every sample is valid). Recurrent layers neither change a
    /// sample's state on its padding steps nor give them gradient, output zeros there, and run a
    /// backward direction from each sample's own last step (see ``SimpleRNN``).
    public let sequenceLengths: [Int]?
    /// In data-parallel training (see ``Communicator``), where this process's samples lie in the
    /// batch that all processes train together: random draws are made for the whole batch, so
    /// that the streams stay alike everywhere (``draws(for:samples:perSample:_:)``). Nil: the
    /// batch is all here.
    public let batchShard: BatchShard?

    public init(training: Bool, backend: any Backend = CPUBackend(), streams: RandomStreams = RandomStreams(seed: 0),
                stopRequested: (@Sendable () -> Bool)? = nil, sequenceLengths: [Int]? = nil,
                batchShard: BatchShard? = nil) {
        self.batchShard = batchShard
        self.training = training
        self.backend = backend
        self.streams = streams
        self.stopRequested = stopRequested
        self.sequenceLengths = sequenceLengths
    }

    /// The processing order of a recurrent layer's input `[batch, steps, …]` (with the lengths,
    /// which must be one per sample, each at most `steps`).
    func stepOrder(batch: Int, steps: Int, reversed: Bool, layer: String) -> StepOrder {
        if let lengths = sequenceLengths {
            precondition(lengths.count == batch, "\(layer): \(lengths.count) sequence lengths for a batch of \(batch)")
            precondition(lengths.allSatisfy { (0...steps).contains($0) },
                         "\(layer): a sequence length outside 0...\(steps)")
            if lengths.allSatisfy({ $0 == steps }) { return StepOrder(steps: steps, reversed: reversed) }
        }
        return StepOrder(steps: steps, reversed: reversed, lengths: sequenceLengths)
    }

    /// Whether a stop was requested (never, without a ``stopRequested`` check).
    public var shouldStop: Bool { stopRequested?() ?? false }

    /// Runs `body` on `layer`'s own generator. Layers of one model may call it from several
    /// threads at once (each on its own generator).
    public func withGenerator<R>(for layer: AnyObject, _ body: (inout RandomGenerator) -> R) -> R {
        streams.withGenerator(for: layer, body)
    }

    /// `perSample` values drawn by `draw` from `layer`'s stream for each of this pass's `samples`,
    /// sample after sample. In data-parallel training the draws are made for the whole batch and
    /// this process's samples kept, so a sample gets the draws it would get in one process.
    public func draws(for layer: AnyObject, samples: Int, perSample: Int,
                      _ draw: (inout RandomGenerator) -> Float) -> [Float] {
        let shard = batchShard ?? BatchShard(samples: 0..<samples, batchSize: samples)
        precondition(shard.samples.count == samples, "the batch shard has \(shard.samples.count) samples, the pass \(samples)")
        return withGenerator(for: layer) { generator in
            var kept: [Float] = []
            kept.reserveCapacity(samples * perSample)
            for sample in 0..<shard.batchSize {
                let keep = shard.samples.contains(sample)
                for _ in 0..<perSample {
                    let value = draw(&generator)
                    if keep { kept.append(value) }
                }
            }
            return kept
        }
    }
}

/// This process's part of a batch trained by several (data-parallel training): samples
/// `samples` of the `batchSize` in the whole batch.
public struct BatchShard: Sendable, Equatable {
    public let samples: Range<Int>
    public let batchSize: Int

    public init(samples: Range<Int>, batchSize: Int) {
        precondition(samples.lowerBound >= 0 && samples.upperBound <= batchSize, "a shard lies within its batch")
        self.samples = samples
        self.batchSize = batchSize
    }

    /// Member `rank` of `size`'s contiguous part of a batch of `batchSize`: the parts' sizes differ
    /// by one at most, the first ones larger, and a member may get none (a batch smaller than the group).
    public init(rank: Int, of size: Int, batchSize: Int) {
        precondition(size > 0 && (0..<size).contains(rank), "rank \(rank) is not in a group of \(size)")
        let base = batchSize / size, extra = batchSize % size
        let start = rank * base + min(rank, extra)
        self.init(samples: start..<(start + base + (rank < extra ? 1 : 0)), batchSize: batchSize)
    }
}

/// The per-layer random streams of a model: one generator per layer path, seeded with
/// `seed ^ salt(dropout) ^ FNV-1a(path)`, so that adding a layer changes no other layer's stream.
/// Their states are part of a checkpoint (``states`` / ``restore(_:)``).
public final class RandomStreams: @unchecked Sendable {
    private final class Box { var generator: RandomGenerator; init(_ g: RandomGenerator) { generator = g } }
    public let seed: UInt64
    private var byPath: [String: Box] = [:]
    private var byLayer: [ObjectIdentifier: Box] = [:]
    private let lock = NSLock()

    public init(seed: UInt64) { self.seed = seed }

    /// Gives every layer of `layers` (found by walking, with its path) its stream.
    convenience init(seed: UInt64, layers: [(path: String, layer: AnyObject)]) {
        self.init(seed: seed)
        for (path, layer) in layers { _ = box(for: layer, path: path) }
    }

    private func box(for layer: AnyObject, path: String?) -> Box {
        lock.lock()
        defer { lock.unlock() }
        if let box = byLayer[ObjectIdentifier(layer)] { return box }
        let key = path ?? "#\(byLayer.count)"
        let box = Box(RandomGenerator(seed: seed ^ Self.hash(key), stream: .dropout))
        byLayer[ObjectIdentifier(layer)] = box
        byPath[key] = box
        return box
    }

    func withGenerator<R>(for layer: AnyObject, _ body: (inout RandomGenerator) -> R) -> R {
        let box = box(for: layer, path: nil)
        return body(&box.generator)
    }

    /// Each stream's state by layer path.
    public var states: [String: [UInt64]] {
        lock.lock()
        defer { lock.unlock() }
        return byPath.mapValues(\.generator.stateWords)
    }

    /// Restores saved states; throws for an invalid state. Paths this model lacks are ignored
    /// (a layer that never draws still has a stream).
    public func restore(_ states: [String: [UInt64]]) throws {
        lock.lock()
        defer { lock.unlock() }
        for (path, words) in states {
            guard let generator = RandomGenerator(stateWords: words) else {
                throw ShapeError("the saved random stream of \(path) is not a generator state")
            }
            byPath[path]?.generator = generator
        }
    }

    /// FNV-1a of the UTF-8 bytes: a fixed rule, the same on every platform and Swift version.
    static func hash(_ text: String) -> UInt64 { FNV1a.hash(text.utf8) }
}
