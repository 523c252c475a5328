import Dispatch

/// Runs a recurrent layer (``LSTM``, or any ``RecurrentLayer``) over the sequence in both
/// directions and concatenates the two outputs (Keras `Bidirectional`, `merge_mode="concat"`).
///
/// Without `returnSequences` the output is `[forward's last state, backward's final state]`,
/// the latter being the state the backward direction reaches at step 0 (PyTorch's `h_n[1]`,
/// not `output[-1]`). With it, the backward outputs are put back in time order.
/// With ``threads`` ≥ 2 the two directions run at once, each on `threads / 2` threads.
public final class Bidirectional: RecurrentLayer {
    public static let typeName = "Bidirectional"
    public static let positionalKeys = ["layer"]
    public var name = "bidirectional"
    public let forwardLayer: any RecurrentLayer
    public let backwardLayer: any RecurrentLayer
    /// Threads the layer's passes use: with 2 or more the two directions run at once (each with its
    /// own workspace), each on `threads / 2` threads (see ``LSTM/threads``; an odd count leaves one
    /// idle); with 1 they run one after the other on the calling thread.
    public var threads: Int {
        didSet {
            precondition(threads >= 1, "\(name): threads must be at least 1")
            shareThreads()
        }
    }
    /// Whether the two directions run at once.
    public var parallel: Bool { threads >= 2 }
    /// The format of both directions' products (see ``Precision``).
    public var precision: Precision {
        get { forwardLayer.precision }
        set {
            forwardLayer.precision = newValue
            backwardLayer.precision = newValue
        }
    }
    public var returnSequences: Bool { forwardLayer.returnSequences }

    public var needsInputGradient: Bool {
        get { forwardLayer.needsInputGradient }
        set {
            forwardLayer.needsInputGradient = newValue
            backwardLayer.needsInputGradient = newValue
        }
    }

    public init(_ layer: any RecurrentLayer, threads: Int = 2) {
        precondition(threads >= 1, "Bidirectional: threads must be at least 1")
        forwardLayer = layer
        backwardLayer = layer.reversedCopy()
        self.threads = threads
        shareThreads()
    }

    /// The wrapped layer's description (the forward direction; the backward one mirrors it) and
    /// how the outputs merge (`concat`, the only mode so far).
    public struct Configuration: Codable, Sendable {
        public var layer: LayerDescription
        public var mergeMode: String?
        enum CodingKeys: String, CodingKey { case layer, mergeMode = "merge_mode" }

        public init(layer: LayerDescription, mergeMode: String? = "concat") {
            self.layer = layer
            self.mergeMode = mergeMode
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Files before the module contract stored the layer as a one-element list.
            if let list = try? container.decode([LayerDescription].self, forKey: .layer), list.count == 1 {
                layer = list[0]
            } else {
                layer = try container.decode(LayerDescription.self, forKey: .layer)
            }
            mergeMode = try container.decodeIfPresent(String.self, forKey: .mergeMode)
        }
    }

    public var configuration: Configuration {
        Configuration(layer: LayerDescription(forwardLayer))
    }

    public convenience init(configuration: Configuration) throws {
        guard (configuration.mergeMode ?? "concat") == "concat" else {
            throw ShapeError("Bidirectional merge mode \(configuration.mergeMode!) is not supported (concat is)")
        }
        guard let layer = try configuration.layer.makeLayer() as? any RecurrentLayer else {
            throw ShapeError("Bidirectional needs a recurrent layer inside, got \(configuration.layer.type)")
        }
        self.init(layer)
    }

    private func shareThreads() {
        forwardLayer.threads = max(1, threads / 2)
        backwardLayer.threads = max(1, threads / 2)
    }

    public func reversedCopy() -> Bidirectional {
        Bidirectional(forwardLayer.reversedCopy(), threads: threads)
    }

    public var children: [(name: String, layer: any Layer)] {
        [("forward", forwardLayer), ("backward", backwardLayer)]
    }

    /// Units of one direction's output (the last axis of each half of the output).
    private var units = 0

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        forwardLayer.name = "\(name).forward"
        backwardLayer.name = "\(name).backward"
        let shape = try forwardLayer.build(inputShape: inputShape, context: &context)
        _ = try backwardLayer.build(inputShape: inputShape, context: &context)
        units = shape.last!
        return Array(shape.dropLast()) + [2 * units]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        forwardLayer.forwardFLOPs(inputShape: inputShape) + backwardLayer.forwardFLOPs(inputShape: inputShape)
    }

    private var sequenceLength: Int { returnSequences ? lastSteps : 1 }
    private var lastSteps = 0
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward

    /// Where the layer's passes spent their time since it was built or ``resetTiming()`` ran.
    public private(set) var timing = DirectionTiming()

    public func resetTiming() { timing = DirectionTiming() }

    /// Runs `body(0)` and `body(1)` — one per direction — in parallel or in turn, timing each.
    private func bothDirections(_ body: (Int) -> Void) {
        var busy: [UInt64] = [0, 0]
        let start = DispatchTime.now().uptimeNanoseconds
        busy.withUnsafeMutableBufferPointer { buffer in
            let slots = buffer
            func timed(_ direction: Int) {
                let begin = DispatchTime.now().uptimeNanoseconds
                body(direction)
                slots[direction] = DispatchTime.now().uptimeNanoseconds - begin
            }
            if parallel {
                Parallel.forEach(2, timed)
            } else {
                timed(0)
                timed(1)
            }
        }
        timing.record(wallNanoseconds: DispatchTime.now().uptimeNanoseconds - start, busyNanoseconds: busy, parallel: parallel)
    }

    public func forward(_ input: Tensor, context: ForwardContext) -> Tensor {
        lastSteps = input.shape[1]
        backend = context.backend
        var outputs = [Tensor(zeros: [0]), Tensor(zeros: [0])]
        let layers: [any Layer] = [forwardLayer, backwardLayer]
        outputs.withUnsafeMutableBufferPointer { buffer in
            let results = buffer
            bothDirections { results[$0] = layers[$0].forward(input, context: context) }
        }
        return concatenate(outputs[0], outputs[1])
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (forwardGradient, backwardGradient) = split(outputGradient)
        var inputGradients = [Tensor(zeros: [0]), Tensor(zeros: [0])]
        let layers: [any Layer] = [forwardLayer, backwardLayer]
        let gradients = [forwardGradient, backwardGradient]
        inputGradients.withUnsafeMutableBufferPointer { buffer in
            let results = buffer
            bothDirections { results[$0] = layers[$0].backward(gradients[$0]) }
        }
        guard needsInputGradient else { return Tensor(zeros: [0]) }
        var sum = inputGradients[0]
        backend.add(inputGradients[1], into: &sum)
        return sum
    }

    /// Concatenates along the last axis; backward sequences are reversed back into time order.
    private func concatenate(_ a: Tensor, _ b: Tensor) -> Tensor {
        let u = units, batch = a.shape[0], steps = sequenceLength
        var shape = a.shape
        shape[shape.count - 1] = 2 * u
        var result = Tensor(zeros: shape)
        result.scalars.withUnsafeMutableBufferPointer { y in
            a.scalars.withUnsafeBufferPointer { fa in
                b.scalars.withUnsafeBufferPointer { fb in
                    for row in 0..<batch {
                        for t in 0..<steps {
                            let destination = y.baseAddress! + (row * steps + t) * 2 * u
                            let backwardStep = returnSequences ? steps - 1 - t : t
                            destination.update(from: fa.baseAddress! + (row * steps + t) * u, count: u)
                            (destination + u).update(from: fb.baseAddress! + (row * steps + backwardStep) * u, count: u)
                        }
                    }
                }
            }
        }
        return result
    }

    /// The inverse of `concatenate`, for the gradient.
    private func split(_ gradient: Tensor) -> (Tensor, Tensor) {
        let u = units, batch = gradient.shape[0], steps = sequenceLength
        var shape = gradient.shape
        shape[shape.count - 1] = u
        var a = Tensor(zeros: shape), b = Tensor(zeros: shape)
        gradient.scalars.withUnsafeBufferPointer { dy in
            a.scalars.withUnsafeMutableBufferPointer { da in
                b.scalars.withUnsafeMutableBufferPointer { db in
                    for row in 0..<batch {
                        for t in 0..<steps {
                            let source = dy.baseAddress! + (row * steps + t) * 2 * u
                            let backwardStep = returnSequences ? steps - 1 - t : t
                            (da.baseAddress! + (row * steps + t) * u).update(from: source, count: u)
                            (db.baseAddress! + (row * steps + backwardStep) * u).update(from: source + u, count: u)
                        }
                    }
                }
            }
        }
        return (a, b)
    }
}

/// A ``Bidirectional`` layer's time: the wall time of its passes and each direction's own share.
/// When the directions run in parallel, the one that finishes first leaves its core idle until the
/// other is done; `imbalanceSeconds` is the wall time that costs (half the summed differences:
/// what perfectly balanced directions would save).
public struct DirectionTiming: Sendable, Equatable {
    public var passes = 0
    public var wallSeconds = 0.0
    /// The forward direction's seconds, then the backward direction's.
    public var busySeconds = [0.0, 0.0]
    public var imbalanceSeconds = 0.0

    mutating func record(wallNanoseconds: UInt64, busyNanoseconds: [UInt64], parallel: Bool) {
        let busy = busyNanoseconds.map { Double($0) / 1e9 }
        passes += 1
        wallSeconds += Double(wallNanoseconds) / 1e9
        busySeconds = zip(busySeconds, busy).map(+)
        if parallel { imbalanceSeconds += abs(busy[0] - busy[1]) / 2 }
    }
}

extension Bidirectional: PyTorchConvertible {
    /// The wrapped layer's bidirectional PyTorch module (``PyTorchRecurrent``).
    public func pyTorchModules() throws -> [PyTorchModule] {
        guard let layer = forwardLayer as? any PyTorchRecurrent else {
            throw ShapeError("\(name): \(forwardLayer.typeName) has no PyTorch module (PyTorchRecurrent)")
        }
        return [try layer.pyTorchModule(reverse: backwardLayer)]
    }
}
