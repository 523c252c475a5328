import Dispatch

/// Runs a recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN`` or any ``RecurrentLayer``) over the
/// sequence in both directions and merges the two outputs (Keras `Bidirectional`): concatenated
/// (the default), summed, averaged or multiplied element-wise (``MergeMode``).
///
/// Without `returnSequences` the two outputs are the forward direction's last state and the
/// backward direction's final state, the state it reaches at step 0 (PyTorch's `h_n[1]`, not
/// `output[-1]`). With it, the backward outputs are put back in time order before merging.
/// With ``threads`` ≥ 2 the two directions run at once, each on `threads / 2` threads.
public final class Bidirectional: RecurrentLayer {
    public static let typeName = "Bidirectional"
    public static let positionalKeys = ["layer", "merge_mode"]
    public static let specAliases = ["bi"]
    public static let specKeyAliases = ["merge": "merge_mode"]
    public var name = "bidirectional"
    public let forwardLayer: any RecurrentLayer
    public let backwardLayer: any RecurrentLayer
    public let mergeMode: MergeMode

    /// How the two directions' outputs become one, with Keras' names.
    public enum MergeMode: String, Codable, Sendable, CaseIterable {
        /// `[forward, backward]` along the last axis: twice the units.
        case concat
        /// forward + backward.
        case sum
        /// (forward + backward) / 2.
        case ave
        /// forward ⊙ backward.
        case mul

        /// Keras' name, or `average` / `multiply` spelled out.
        public init?(spelled: String) {
            switch spelled.lowercased() {
            case "average", "avg", "mean": self = .ave
            case "multiply", "product": self = .mul
            default: self.init(rawValue: spelled.lowercased())
            }
        }

        public init(from decoder: Decoder) throws {
            let spelled = try decoder.singleValueContainer().decode(String.self)
            guard let mode = MergeMode(spelled: spelled) else {
                throw ShapeError("Bidirectional merge mode \"\(spelled)\" is not one of concat, sum, ave (average), mul (multiply)")
            }
            self = mode
        }
    }
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

    public init(_ layer: any RecurrentLayer, mergeMode: MergeMode = .concat, threads: Int = 2) {
        precondition(threads >= 1, "Bidirectional: threads must be at least 1")
        forwardLayer = layer
        backwardLayer = layer.reversedCopy()
        self.mergeMode = mergeMode
        self.threads = threads
        shareThreads()
    }

    /// The wrapped layer's description (the forward direction; the backward one mirrors it) and
    /// how the outputs merge (`merge_mode`; a model spec may write `merge`).
    public struct Configuration: Codable, Sendable {
        public var layer: LayerDescription
        public var mergeMode: MergeMode?
        enum CodingKeys: String, CodingKey { case layer, mergeMode = "merge_mode" }

        public init(layer: LayerDescription, mergeMode: MergeMode? = .concat) {
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
            mergeMode = try container.decodeIfPresent(MergeMode.self, forKey: .mergeMode)
        }
    }

    public var configuration: Configuration {
        Configuration(layer: LayerDescription(forwardLayer), mergeMode: mergeMode)
    }

    public convenience init(configuration: Configuration) throws {
        guard let layer = try configuration.layer.makeLayer() as? any RecurrentLayer else {
            throw ShapeError("Bidirectional needs a recurrent layer inside, got \(configuration.layer.type)")
        }
        self.init(layer, mergeMode: configuration.mergeMode ?? .concat)
    }

    private func shareThreads() {
        forwardLayer.threads = max(1, threads / 2)
        backwardLayer.threads = max(1, threads / 2)
    }

    public func reversedCopy() -> Bidirectional {
        Bidirectional(forwardLayer.reversedCopy(), mergeMode: mergeMode, threads: threads)
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
        return Array(shape.dropLast()) + [mergeMode == .concat ? 2 * units : units]
    }

    public func forwardFLOPs(inputShape: [Int]) -> Int {
        forwardLayer.forwardFLOPs(inputShape: inputShape) + backwardLayer.forwardFLOPs(inputShape: inputShape)
    }

    private var sequenceLength: Int { returnSequences ? lastSteps : 1 }
    private var lastSteps = 0
    private var backend: any Backend = CPUBackend()  // the last forward pass's, for its backward
    private var lastOutputs = [Tensor(zeros: [0]), Tensor(zeros: [0])]  // each direction's, for mul's gradient

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
        if mergeMode == .mul { lastOutputs = outputs }
        return merge(outputs[0], outputs[1])
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let (forwardGradient, backwardGradient) = unmerge(outputGradient)
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

    /// The two directions' outputs merged, step by step in time order (the backward direction's
    /// sequence is reversed back), rows of `units` each.
    private func merge(_ a: Tensor, _ b: Tensor) -> Tensor {
        let u = units, batch = a.shape[0], steps = sequenceLength, mode = mergeMode
        let width = mode == .concat ? 2 * u : u
        var shape = a.shape
        shape[shape.count - 1] = width
        var result = Tensor(zeros: shape)
        result.scalars.withUnsafeMutableBufferPointer { y in
            a.scalars.withUnsafeBufferPointer { fa in
                b.scalars.withUnsafeBufferPointer { fb in
                    for row in 0..<batch {
                        for t in 0..<steps {
                            let destination = y.baseAddress! + (row * steps + t) * width
                            let forwards = fa.baseAddress! + (row * steps + t) * u
                            let backwards = fb.baseAddress! + (row * steps + (returnSequences ? steps - 1 - t : t)) * u
                            switch mode {
                            case .concat:
                                destination.update(from: forwards, count: u)
                                (destination + u).update(from: backwards, count: u)
                            case .sum: for j in 0..<u { destination[j] = forwards[j] + backwards[j] }
                            case .ave: for j in 0..<u { destination[j] = 0.5 * (forwards[j] + backwards[j]) }
                            case .mul: for j in 0..<u { destination[j] = forwards[j] * backwards[j] }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Each direction's output gradient from the merged one: the inverse of `merge` for concat,
    /// the gradient itself for sum (half of it for ave), times the other direction's output for mul.
    private func unmerge(_ gradient: Tensor) -> (Tensor, Tensor) {
        let u = units, batch = gradient.shape[0], steps = sequenceLength, mode = mergeMode
        let width = mode == .concat ? 2 * u : u
        var shape = gradient.shape
        shape[shape.count - 1] = u
        var a = Tensor(zeros: shape), b = Tensor(zeros: shape)
        let (outputA, outputB) = (lastOutputs[0], lastOutputs[1])
        gradient.scalars.withUnsafeBufferPointer { dy in
            a.scalars.withUnsafeMutableBufferPointer { da in
                b.scalars.withUnsafeMutableBufferPointer { db in
                    for row in 0..<batch {
                        for t in 0..<steps {
                            let source = dy.baseAddress! + (row * steps + t) * width
                            let forwardRow = (row * steps + t) * u
                            let backwardRow = (row * steps + (returnSequences ? steps - 1 - t : t)) * u
                            let dForwards = da.baseAddress! + forwardRow, dBackwards = db.baseAddress! + backwardRow
                            switch mode {
                            case .concat:
                                dForwards.update(from: source, count: u)
                                dBackwards.update(from: source + u, count: u)
                            case .sum:
                                dForwards.update(from: source, count: u)
                                dBackwards.update(from: source, count: u)
                            case .ave:
                                for j in 0..<u { (dForwards[j], dBackwards[j]) = (0.5 * source[j], 0.5 * source[j]) }
                            case .mul:
                                for j in 0..<u {
                                    dForwards[j] = source[j] * outputB.scalars[backwardRow + j]
                                    dBackwards[j] = source[j] * outputA.scalars[forwardRow + j]
                                }
                            }
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
    /// The wrapped layer's bidirectional PyTorch module (``PyTorchRecurrent``), whose output is the
    /// two directions concatenated; another merge wraps it in `MergeDirections` (its tensors under
    /// `recurrent.`).
    public func pyTorchModules() throws -> [PyTorchModule] {
        guard let layer = forwardLayer as? any PyTorchRecurrent else {
            throw ShapeError("\(name): \(forwardLayer.typeName) has no PyTorch module (PyTorchRecurrent)")
        }
        let recurrent = try layer.pyTorchModule(reverse: backwardLayer)
        guard mergeMode != .concat else { return [recurrent] }
        var merged = PyTorchModule("MergeDirections(\(recurrent.code), \"\(mergeMode.rawValue)\")", helpers: ["MergeDirections": """
            class MergeDirections(nn.Module):
                \"\"\"Keras' Bidirectional merge of a module whose output is both directions concatenated on the
                last axis: "sum", "ave" (their mean) or "mul" (their element-wise product).\"\"\"
                def __init__(self, recurrent, mode):
                    super().__init__()
                    self.recurrent = recurrent
                    self.mode = mode

                def forward(self, x):
                    forwards, backwards = self.recurrent(x).chunk(2, dim=-1)
                    if self.mode == "sum":
                        return forwards + backwards
                    if self.mode == "ave":
                        return (forwards + backwards) / 2
                    return forwards * backwards
            """])
        merged.include(recurrent, under: "recurrent.")
        return [merged]
    }
}
