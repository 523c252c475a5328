/// Builds a layer list from a block: `Sequential { Bidirectional(LSTM(units: 128)); Dense(units: 10) }`.
@resultBuilder
public enum LayerBuilder {
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    public static func buildBlock(_ layers: [any Layer]...) -> [any Layer] { layers.flatMap { $0 } }
    public static func buildOptional(_ layers: [any Layer]?) -> [any Layer] { layers ?? [] }
    public static func buildEither(first layers: [any Layer]) -> [any Layer] { layers }
    public static func buildEither(second layers: [any Layer]) -> [any Layer] { layers }
    public static func buildArray(_ layers: [[any Layer]]) -> [any Layer] { layers.flatMap { $0 } }
}

/// A stack of layers, each feeding the next.
public final class Sequential {
    public let layers: [any Layer]
    /// The input shape without the batch dimension, once built.
    public private(set) var inputShape: [Int]?
    private var layerInputShapes: [[Int]] = []
    private(set) var layerOutputShapes: [[Int]] = []
    /// The names of the output classes, when the training data had them (CSV target values,
    /// image folder names); saved in the model file, so that predictions name classes.
    public var classNames: [String]?
    /// The names of the input features, when the training data had them (a CSV table's feature
    /// columns); saved in the model file, so that a table to predict is read by column name.
    public var featureNames: [String]?
    /// The loss the model was last trained with (`fit` records it, as Keras' `compile` does); saved in the model file with its settings, so that
    /// evaluating the model later (`nn evaluate`) measures the same loss and a CTC model's blank is known.
    public var loss: Loss?
    /// Why the loss a loaded file names could not be read (a type this registry lacks, a setting
    /// out of range), nil where there was none to read; the model loads without it, as the loss
    /// is needed for evaluation only.
    public internal(set) var lossReadError: String?

    /// Whether ``backward(_:)`` returns the gradient with respect to the model's input. Training
    /// does not need it, and for a recurrent first layer it costs a GEMM per direction.
    public var computesInputGradient = false {
        didSet { shareInputGradientNeeds() }
    }

    /// Without ``computesInputGradient``, no layer up to the first with parameters needs its input
    /// gradient (Flatten → Dense: the Dense layer's is a product as large as its forward pass).
    /// Known once built, when the parameters exist.
    private func shareInputGradientNeeds() {
        var leading = !computesInputGradient
        for layer in layers {
            layer.needsInputGradient = !leading
            if !layer.allParameters.isEmpty { leading = false }
        }
    }

    public init(layers: [any Layer]) {
        precondition(!layers.isEmpty, "a model needs at least one layer")
        self.layers = layers
        layers[0].needsInputGradient = false
        LayerNames.assign(layers)
    }

    public convenience init(@LayerBuilder _ layers: () -> [any Layer]) {
        self.init(layers: layers())
    }

    public var isBuilt: Bool { inputShape != nil }

    /// Throws ``ShapeError`` unless padded sequences (``ForwardContext/sequenceLengths``) can go
    /// through the model: every layer before the recurrent layer that uses their lengths must work
    /// step by step (``Layer/passesPaddedSequences()``), so that padding never reaches a real value.
    public func checkPaddedSequences() throws {
        // Samples of ids ([steps]) need a first layer that gives each step its features (an
        // Embedding): one that reads the whole axis (a Dense layer) would mix the padding in.
        if let inputShape, inputShape.count < 2, layerOutputShapes.first?.count != inputShape.count + 1 {
            throw ShapeError("padded sequences (sequence lengths) need samples of [steps, features], or of ids [steps] "
                             + "through a first layer that makes each step a vector (an embedding); these are \(inputShape)")
        }
        _ = try passPaddedSequences(through: layers)
    }

    /// Throws ``ShapeError`` when `input` holds values the first layer cannot take (see
    /// ``Layer/checkInput(_:)``): `fit`, `evaluate` and `predict` ask before each pass.
    public func checkInput(_ input: Tensor) throws {
        try layers[0].checkInput(input)
    }

    /// What computes the model's passes (``CPUBackend`` unless set; see ``Backend``).
    public var backend: any Backend = CPUBackend()

    /// The per-layer random streams (dropout, noise) of the seed the model was built with.
    public private(set) var randomStreams = RandomStreams(seed: 0)

    /// Creates every parameter for inputs of `inputShape` (batch excluded), drawing the initial
    /// values from the `initialization` stream of `seed`; the layers' random streams derive from
    /// `seed` too. With `initializesValues` false (the values come from a file next) nothing is
    /// drawn; more than `maximumValues` parameter values is a ``ShapeError`` before they are allocated.
    public func build(inputShape: [Int], seed: UInt64, initializesValues: Bool = true,
                      maximumValues: Int = .max) throws {
        var context = BuildContext(generator: RandomGenerator(seed: seed, stream: .initialization),
                                   initializesValues: initializesValues, maximumValues: maximumValues)
        try build(inputShape: inputShape, context: &context)
        randomStreams = RandomStreams(seed: seed, layers: walkedLayers.map { ($0.path, $0.layer as AnyObject) })
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws {
        var shape = inputShape
        layerInputShapes = []
        layerOutputShapes = []
        for layer in layers {
            layerInputShapes.append(shape)
            shape = try layer.build(inputShape: shape, context: &context)
            layerOutputShapes.append(shape)
        }
        shareInputGradientNeeds()
        // Paths come from walking the layers: dense.kernel, bidirectional.forward.kernel, …
        for layer in layers {
            for (path, parameter) in layer.namedParameters { parameter.name = layer.name + "." + path }
        }
        parameters = layers.flatMap(\.allParameters)
        trainableParameters = parameters.filter(\.isTrainable)
        self.inputShape = inputShape
    }

    /// Every layer with its path (`dense`, `bidirectional.forward`, …), depth first.
    public var walkedLayers: [(path: String, layer: any Layer)] {
        var result: [(path: String, layer: any Layer)] = []
        for layer in layers {
            layer.walk(prefix: layer.name + ".") { prefix, inner in result.append((String(prefix.dropLast()), inner)) }
        }
        return result
    }

    public var outputShape: [Int] { layerOutputShapes.last ?? [] }

    private var recurrentLayers: [any RecurrentLayer] { layers.compactMap { $0 as? any RecurrentLayer } }

    /// The format of every recurrent layer's products (see ``Precision``); float32 by default.
    public var precision: Precision {
        get { recurrentLayers.first?.precision ?? .float32 }
        set { recurrentLayers.forEach { $0.precision = newValue } }
    }
    /// Threads of every threaded layer's passes (see ``LSTM/threads``, ``Bidirectional/threads``,
    /// ``Dense/threads``), found by walking the model: the first one's count, 1 without any.
    public var threads: Int {
        get { threadedLayers.first?.threads ?? 1 }
        set { threadedLayers.forEach { $0.threads = newValue } }
    }

    /// The threaded layers, outermost first (a Bidirectional shares its threads out itself).
    private var threadedLayers: [any ThreadedLayer] {
        var result: [any ThreadedLayer] = []
        func visit(_ layer: any Layer) {
            if let threaded = layer as? any ThreadedLayer {
                result.append(threaded)
                if layer is any RecurrentLayer { return }
            }
            for child in layer.children { visit(child.layer) }
        }
        layers.forEach(visit)
        return result
    }
    /// Every parameter and buffer, in walk order (the order files and optimizers use); found once
    /// the model is built.
    public private(set) var parameters: [Parameter] = []
    /// The parameters an optimizer updates (buffers left out).
    public private(set) var trainableParameters: [Parameter] = []
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.count } }

    /// FLOPs (2 per multiply-add) of one sample's forward pass; training costs about three times it.
    public var forwardFLOPsPerSample: Int {
        zip(layers, layerInputShapes).reduce(0) { $0 + $1.0.forwardFLOPs(inputShape: $1.1) }
    }

    /// With `sequenceLengths` (one per sample), each sample's sequence is its first that many
    /// steps, the rest padding (see ``ForwardContext/sequenceLengths``).
    /// With `batchShard`, `input` is one process's part of a data-parallel batch (see ``BatchShard``).
    public func forward(_ input: Tensor, training: Bool = false, stopRequested: (@Sendable () -> Bool)? = nil,
                        sequenceLengths: [Int]? = nil, batchShard: BatchShard? = nil) -> Tensor {
        precondition(isBuilt, "build the model before running it")
        precondition(Array(input.shape.dropFirst()) == inputShape!,
                     "input \(input.shape) does not fit the model's input [batch] + \(inputShape!)")
        if let sequenceLengths {
            precondition(input.rank >= 2 && sequenceLengths.count == input.shape[0]
                         && sequenceLengths.allSatisfy { (0...input.shape[1]).contains($0) },
                         "sequence lengths must be one per sample, each within the \(input.shape.dropFirst().first ?? 0) steps")
        }
        Denormals.flushToZero()
        let context = ForwardContext(training: training, backend: backend, streams: randomStreams,
                                     stopRequested: stopRequested, sequenceLengths: sequenceLengths,
                                     batchShard: batchShard)
        return layers.reduce(input) { $1.forward($0, context: context) }
    }

    /// Backward through every layer; returns the input gradient if ``computesInputGradient``,
    /// an empty tensor otherwise.
    @discardableResult
    public func backward(_ outputGradient: Tensor) -> Tensor {
        Denormals.flushToZero()
        return layers.reversed().reduce(outputGradient) { $1.backward($0) }
    }

    /// Class probabilities (or whatever the last layer outputs) for `input`, in batches.
    /// With `sequenceLengths` (one per sample), each sample's sequence is its first that many steps.
    /// The input's values are not checked (an ``Embedding`` reads NaN for an id outside its
    /// table): call ``checkInput(_:)`` first, or predict a ``SampleSource``, which does.
    public func predict(_ input: Tensor, batchSize: Int = 128, sequenceLengths: [Int]? = nil) -> Tensor {
        let count = input.shape[0], size = input.count / max(count, 1)
        precondition(sequenceLengths.map { $0.count == count } ?? true, "one sequence length per sample")
        var result: [Float] = []
        var start = 0
        while start < count {
            let end = min(start + batchSize, count)
            let batch = Tensor(shape: [end - start] + Array(input.shape.dropFirst()),
                               scalars: Array(input.scalars[(start * size)..<(end * size)]))
            result += forward(batch, sequenceLengths: sequenceLengths.map { Array($0[start..<end]) }).scalars
            start = end
        }
        return Tensor(shape: [count] + outputShape, scalars: result)
    }

    /// The Keras-style table: layer (type), output shape, parameter count, totals.
    public func summary() -> String {
        precondition(isBuilt, "build the model before asking for its summary")
        func shape(_ dims: [Int]) -> String { "(None, " + dims.map(String.init).joined(separator: ", ") + ")" }
        let rows = zip(layers, layerOutputShapes).map { layer, outputShape in
            (" \(layer.name) (\(layer.typeName))", shape(outputShape), Self.grouped(layer.parameterCount))
        }
        let first = max(29, (rows.map(\.0.count).max() ?? 0) + 2)
        let second = max(26, (rows.map(\.1.count).max() ?? 0) + 2)
        let width = first + second + 10
        func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        let line = String(repeating: "_", count: width), double = String(repeating: "=", count: width)
        var out = "Model: \"sequential\"\n\(line)\n"
        out += pad(" Layer (type)", first) + pad("Output Shape", second) + "Param #\n\(double)\n"
        for (name, outputShape, count) in rows {
            out += pad(name, first) + pad(outputShape, second) + count + "\n"
        }
        out += "\(double)\n"
        out += "Total params: \(Self.grouped(parameterCount))\n"
        out += "Trainable params: \(Self.grouped(trainableParameterCount))\n"
        out += "Non-trainable params: \(Self.grouped(parameterCount - trainableParameterCount))\n\(line)\n"
        return out
    }

    /// 163338 → "163,338".
    public static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in
            (i > 0 && (digits.count - i) % 3 == 0) ? [",", d] : [d]
        })
    }
}
