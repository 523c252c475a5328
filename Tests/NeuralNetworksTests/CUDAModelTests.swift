import Foundation
import Testing
@testable import NeuralNetworks

/// The model on the GPU as a whole (``CUDAModel``), on the CUDA simulator: each layer's device
/// form trains, evaluates and predicts as the CPU does, and `fit` keeps the host's parameters and
/// optimizer state the truth wherever it stops.
struct CUDAModelTests {
    /// 60 images of 6 × 5 (time steps × features) in `classes` classes: batches of 16 end in one of 12.
    static func data(seed: UInt64 = 11, classes: Int = 5) throws -> Dataset {
        var generator = RandomGenerator(seed: seed)
        let count = 60
        let labels = (0..<count).map { _ in Int(generator.next() % UInt64(classes)) }
        var images = (0..<(count * 30)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 96) }
        for (sample, label) in labels.enumerated() { images[sample * 30 + 6 * label] = 255 }
        return try Dataset(images: images, labels: labels, rows: 6, columns: 5, classCount: classes)
    }

    static func backend() throws -> CUDABackend { try CUDABackend(device: CUDADevice(driver: .simulator)) }

    /// What a run gives to compare: each epoch's loss and accuracy, then the trained model's
    /// evaluation (an inference pass); the parameters; the optimizer's slots; whether the model
    /// trained as a whole on the device (every step there).
    struct Run {
        let losses: [Float], parameters: [[Float]], slots: [[Float]], onDevice: Bool
    }

    /// Trains `makeModel()` for 2 epochs on `backend` with `optimizer` and `loss`, clipping as
    /// asked, on `data` (by default ``data(seed:classes:)`` of `classes` classes).
    static func train(_ makeModel: () -> Sequential, on backend: any Backend, optimizer: any Optimizer,
                      loss: Loss = .categoricalCrossEntropy, classes: Int = 5, data: Dataset? = nil, clipNorm: Float? = nil,
                      clipValue: Float? = nil) throws -> Run {
        let model = makeModel(), data = try data ?? Self.data(classes: classes)
        try model.build(inputShape: [6, 5], seed: 4)
        for case let normalization as Normalization in model.layers { try normalization.adapt(to: data) }
        model.backend = backend
        let history = try model.fit(data, loss: loss, optimizer: optimizer, epochs: 2, batchSize: 16, seed: 9,
                                    clipNorm: clipNorm, clipValue: clipValue)
        let evaluation = try model.evaluate(data, loss: loss, batchSize: 16)
        let slots = type(of: optimizer).slotNames.flatMap { name in
            model.trainableParameters.map { optimizer.state.values(name, for: $0) }
        }
        return Run(losses: history.flatMap { [$0.trainLoss, $0.trainAccuracy ?? -1] } + [evaluation.loss, evaluation.accuracy ?? -1],
                   parameters: model.parameters.map(\.tensor.scalars), slots: slots,
                   onDevice: try Self.stepsOnDevice(model, backend) == 8)
    }

    /// How many training steps `model` took as a whole on `backend`'s device (0 on the CPU).
    static func stepsOnDevice(_ model: Sequential, _ backend: any Backend) throws -> Int {
        (try backend.modelExecution(for: model, batchSize: 16) as? CUDAModel)?.stepsTaken ?? 0
    }

    /// The CPU's run and the device's (on the simulator) of the same model and settings agree
    /// (1e-4), and the device's trained the model as a whole there.
    static func expectSameRun(_ name: String, _ makeModel: () -> Sequential, optimizer: () throws -> any Optimizer,
                              loss: Loss = .categoricalCrossEntropy, classes: Int = 5, data: Dataset? = nil,
                              clipNorm: Float? = nil, clipValue: Float? = nil) throws {
        let cpu = try train(makeModel, on: CPUBackend(), optimizer: optimizer(), loss: loss, classes: classes, data: data,
                            clipNorm: clipNorm, clipValue: clipValue)
        let gpu = try train(makeModel, on: backend(), optimizer: optimizer(), loss: loss, classes: classes, data: data,
                            clipNorm: clipNorm, clipValue: clipValue)
        #expect(gpu.onDevice, "\(name): the model did not stay on the GPU")
        expectClose([cpu.losses], [gpu.losses], "\(name): losses")
        expectClose(cpu.parameters, gpu.parameters, "\(name): parameters")
        expectClose(cpu.slots, gpu.slots, "\(name): the optimizer's slots")
    }

    static func expectClose(_ a: [[Float]], _ b: [[Float]], _ what: String) {
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) {
            let scale = max(x.map(abs).max() ?? 0, 1e-3)
            let difference = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            #expect(difference / scale < 1e-4, "\(what): \(difference)")
        }
    }

    static func models() -> [(String, () -> Sequential, SGD)] { [
        ("stacked LSTMs, a sequence then backwards", {
            Sequential { LSTM(units: 8, returnSequences: true); LSTM(units: 6, goBackwards: true); Dense(units: 5, activation: .softmax) }
        }, SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)),
        ("bidirectional sum of sequences, then product", {
            Sequential {
                Bidirectional(LSTM(units: 6, returnSequences: true), mergeMode: .sum)
                Bidirectional(LSTM(units: 4, recurrentActivation: .hardSigmoid), mergeMode: .mul)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.2, momentum: 0.5, decay: 1e-3)),
        ("bidirectional average, flatten, relu layer", {
            Sequential {
                Bidirectional(LSTM(units: 5, returnSequences: true), mergeMode: .ave)
                Flatten()
                Dense(units: 7, activation: .relu)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("a tanh perceptron with weight decay, no momentum", {
            Sequential { Flatten(); Dense(units: 16, activation: .tanh); Dense(units: 5, activation: .softmax) }
        }, SGD(learningRate: 0.05, weightDecay: 1e-3)),
        ("a GRU sequence, then a bidirectional GRU backwards", {
            Sequential {
                GRU(units: 8, returnSequences: true)
                Bidirectional(GRU(units: 5, recurrentActivation: .hardSigmoid, goBackwards: true))
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)),
        ("a relu RNN sequence, then a bidirectional tanh RNN backwards", {
            Sequential {
                SimpleRNN(units: 7, activation: .relu, returnSequences: true)
                Bidirectional(SimpleRNN(units: 4, goBackwards: true), mergeMode: .concat)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.05, momentum: 0.9)),
        ("dropout on a sequence and on the flattened features (the CPU's masks)", {
            Sequential {
                LSTM(units: 6, returnSequences: true)
                Dropout(rate: 0.3)
                Flatten()
                Dropout(rate: 0.5)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("convolutions, overlapping max pooling with same padding", {
            Sequential {
                Conv2D(filters: 4, kernelSize: Size2D(3), padding: .same, activation: .relu)
                MaxPooling2D(poolSize: Size2D(3), strides: Size2D(1), padding: .same)
                Conv2D(filters: 6, kernelSize: Size2D(2), activation: .tanh)
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.05, momentum: 0.9, nesterov: true)),
        ("a dilated convolution, average pooling with same padding, a strided one, global average", {
            Sequential {
                Conv2D(filters: 4, kernelSize: Size2D(2, 3), dilationRate: Size2D(2, 1), activation: .sigmoid)
                AveragePooling2D(poolSize: Size2D(3), strides: Size2D(2), padding: .same)
                Conv2D(filters: 6, kernelSize: Size2D(1), strides: Size2D(1, 2), useBias: false)
                GlobalAveragePooling2D()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.2, momentum: 0.9)),
        ("a causal 1-D convolution on the sequence, then a strided one", {
            Sequential {
                Conv1D(filters: 6, kernelSize: 3, padding: .causal, activation: .relu)
                Conv1D(filters: 4, kernelSize: 2, strides: 2, padding: .same)
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.5)),
        ("1-D max pooling with same padding, 1-D average pooling", {
            Sequential {
                Conv1D(filters: 6, kernelSize: 3, padding: .same, activation: .relu)
                MaxPooling1D(poolSize: 3, strides: 2, padding: .same)
                AveragePooling1D(poolSize: 2)
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.5)),
        ("batch normalisation of convolution maps and of features, activation layers", {
            Sequential {
                // No biases before normalisation: their gradients are 0 but for rounding, which differs.
                Conv2D(filters: 4, kernelSize: Size2D(3), padding: .same, useBias: false)
                BatchNormalization()
                ActivationLayer(.relu)
                Flatten()
                Dense(units: 8, useBias: false)
                BatchNormalization(momentum: 0.8, epsilon: 1e-2)
                ActivationLayer(.tanh)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("normalization (adapted), rescaling, gaussian noise (the CPU's), reshapes", {
            Sequential {
                Normalization()
                Rescaling(scale: 2, offset: -0.5)
                GaussianNoise(stddev: 0.2)
                Reshape([30])
                Dense(units: 8, activation: .relu)
                Reshape([2, 4])
                Rescaling(scale: 0.5)
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("layer normalisation of the input's steps (no input gradient), of a sequence's, of features", {
            Sequential {
                LayerNormalization()
                LSTM(units: 6, returnSequences: true)
                LayerNormalization(epsilon: 1e-2)
                Flatten()
                Dense(units: 8)
                LayerNormalization()
                ActivationLayer(.relu)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("residual blocks (one with a projection), a concatenation with a chain for a branch", {
            Sequential {
                Flatten()
                Dense(units: 12, activation: .relu)
                Residual { Dense(units: 12, activation: .tanh); Dropout(rate: 0.2); Dense(units: 12) }
                Residual(projection: Dense(units: 6)) { Dense(units: 6, activation: .relu) }
                Concatenate { Dense(units: 4, activation: .relu); Chain { Dense(units: 3); ActivationLayer(.sigmoid) } }
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("transposed convolutions (strided with same padding and gelu, dilated without a bias) after a strided one", {
            Sequential {
                Conv2D(filters: 3, kernelSize: Size2D(2), strides: Size2D(2), activation: .relu)
                Conv2DTranspose(filters: 4, kernelSize: Size2D(3), strides: Size2D(2), padding: .same, activation: .gelu)
                Conv2DTranspose(filters: 2, kernelSize: Size2D(2), dilationRate: Size2D(2, 1), useBias: false)
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("sequences padded, up-sampled and cropped around a 1-D convolution", {
            Sequential {
                Conv1D(filters: 3, kernelSize: 2, activation: .tanh)
                ZeroPadding1D(padding: SequenceMargins(start: 1, end: 2))
                UpSampling1D(size: 2)
                Cropping1D(cropping: SequenceMargins(start: 3, end: 1))
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("zero padding and cropping around a convolution", {
            Sequential {
                ZeroPadding2D(padding: ImageMargins(top: 1, bottom: 2, left: 0, right: 1))
                Conv2D(filters: 3, kernelSize: Size2D(3), activation: .relu)
                Cropping2D(cropping: ImageMargins(top: 1, bottom: 0, left: 1, right: 0))
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("up-sampling, nearest and bilinear (a factor per axis), between convolutions, global max pooling", {
            Sequential {
                Conv2D(filters: 2, kernelSize: Size2D(2), strides: Size2D(2), activation: .tanh)
                UpSampling2D(size: Size2D(2, 3))
                Conv2D(filters: 3, kernelSize: Size2D(3), activation: .relu)
                UpSampling2D(size: Size2D(3, 2), interpolation: .bilinear)
                GlobalMaxPooling2D()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("depthwise convolutions (two filters a channel, same padding, dilation), a strided separable one", {
            Sequential {
                Conv2D(filters: 3, kernelSize: Size2D(1))
                DepthwiseConv2D(kernelSize: Size2D(3), padding: .same, depthMultiplier: 2, activation: .relu)
                DepthwiseConv2D(kernelSize: Size2D(2), dilationRate: Size2D(2, 1), useBias: false)
                SeparableConv2D(filters: 4, kernelSize: Size2D(2), strides: Size2D(2), activation: .tanh)
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.1, momentum: 0.9)),
        ("a softmax layer inside the model (its backward pass, not fused with a loss)", {
            Sequential { Flatten(); Dense(units: 12, activation: .softmax); Dense(units: 5, activation: .softmax) }
        }, SGD(learningRate: 0.5, momentum: 0.9)),
        ("layers on every step (TimeDistributed: a Dense layer, a dropout), then flattened", {
            Sequential {
                LSTM(units: 6, returnSequences: true)
                TimeDistributed(Dense(units: 4, activation: .tanh))
                TimeDistributed(Dropout(rate: 0.2))
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.2, momentum: 0.9)),
        ("GRUs in the original convention (reset before), bidirectional, then backwards", {
            Sequential {
                Bidirectional(GRU(units: 5, returnSequences: true, resetAfter: false))
                GRU(units: 4, recurrentActivation: .hardSigmoid, goBackwards: true, resetAfter: false)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.2, momentum: 0.9)),
        ("activations the CPU computes in Swift (ELU, leaky ReLU, GELU, softplus, swish), softmax as a layer", {
            Sequential {
                Flatten()
                Dense(units: 12, activation: .gelu)
                ActivationLayer(.elu)
                Dense(units: 10, activation: .swish)
                ActivationLayer(.leakyRelu)
                Dense(units: 8, activation: .softplus)
                ActivationLayer(.softmax)
                Dense(units: 5, activation: .softmax)
            }
        }, SGD(learningRate: 0.2, momentum: 0.9)),
    ] }

    @Test(arguments: CUDAModelTests.models().indices)
    func everyDeviceFormTrainsAsTheCPUDoes(model index: Int) throws {
        let (name, makeModel, settings) = Self.models()[index]
        try Self.expectSameRun(name, makeModel, optimizer: { try SGD(configuration: settings.configuration) })
    }

    /// Gradients clipped by value, by global norm, or both (value first), on the device as on the
    /// CPU; limits low enough to clip every batch, so the runs differ from an unclipped one.
    @Test(arguments: [(Float?.none, Float?.some(0.02)), (0.3, nil), (0.3, 0.02)])
    func clippedGradientsTrainAsOnTheCPU(clipNorm: Float?, clipValue: Float?) throws {
        let makeModel = { Sequential { Bidirectional(LSTM(units: 5)); Dense(units: 5, activation: .softmax) } }
        let optimizer = { SGD(learningRate: 0.5, momentum: 0.9) }
        try Self.expectSameRun("clipping", makeModel, optimizer: optimizer, clipNorm: clipNorm, clipValue: clipValue)
        let clipped = try Self.train(makeModel, on: Self.backend(), optimizer: optimizer(), clipNorm: clipNorm, clipValue: clipValue)
        let unclipped = try Self.train(makeModel, on: Self.backend(), optimizer: optimizer())
        #expect(clipped.parameters != unclipped.parameters)
    }

    /// Ids through a table on the GPU: rows gathered, their gradients summed in the CPU's order
    /// (ids repeat within and across samples), then a position embedding and layer normalisation.
    @Test func embeddingsTrainAsOnTheCPU() throws {
        var generator = RandomGenerator(seed: 3)
        let labels = (0..<60).map { _ in Int(generator.next() % 5) }
        let ids = (0..<(60 * 30)).map { index in Float(index % 30 == 0 ? labels[index / 30] : Int(generator.next() % 7)) }
        let data = try Dataset(inputs: FloatSamples(values: ids, sampleShape: [6, 5]), labels: labels, classCount: 5)
        let makeModel = {
            Sequential {
                Embedding(inputDim: 7, outputDim: 3)
                Reshape([6, 15])
                PositionEmbedding()
                LayerNormalization()
                LSTM(units: 6)
                Dense(units: 5, activation: .softmax)
            }
        }
        try Self.expectSameRun("embedding", makeModel, optimizer: { Adam(learningRate: 0.02) }, data: data)
        // An id beyond the table is refused before any pass, as on the CPU (not read as a NaN row).
        var beyond = ids
        beyond[45] = 7
        let bad = try Dataset(inputs: FloatSamples(values: beyond, sampleShape: [6, 5]), labels: labels, classCount: 5)
        let model = makeModel()
        try model.build(inputShape: [6, 5], seed: 4)
        model.backend = try Self.backend()
        #expect { try model.fit(bad, optimizer: Adam(), epochs: 1, batchSize: 16) } throws: {
            "\($0)".contains("input value 7.0 (sample 1 of the batch, position 15) is not an index of its 7 rows")
        }
    }

    /// One model trained twice, with another optimizer, loss and clipping the second time: the
    /// device records a step of each kind, and both runs end where the CPU's do.
    @Test func aModelTrainedAgainWithOtherSettingsTrainsAsTheCPUDoes() throws {
        func run(on backend: any Backend) throws -> Run {
            let model = Sequential { LSTM(units: 6); Dense(units: 5, activation: .sigmoid) }
            try model.build(inputShape: [6, 5], seed: 4)
            model.backend = backend
            let data = try Self.data()
            try model.fit(data, optimizer: SGD(learningRate: 0.2, momentum: 0.9), epochs: 1, batchSize: 16, seed: 1)
            let adam = Adam(learningRate: 0.01)
            let history = try model.fit(data, loss: .binaryCrossEntropy, optimizer: adam, epochs: 1, batchSize: 16, seed: 2,
                                        clipNorm: 0.1)
            let slots = Adam.slotNames.flatMap { name in model.trainableParameters.map { adam.state.values(name, for: $0) } }
            return Run(losses: history.map(\.trainLoss), parameters: model.parameters.map(\.tensor.scalars), slots: slots,
                       onDevice: try Self.stepsOnDevice(model, backend) == 8)
        }
        let (cpu, gpu) = (try run(on: CPUBackend()), try run(on: Self.backend()))
        #expect(gpu.onDevice)
        Self.expectClose([cpu.losses], [gpu.losses], "losses")
        Self.expectClose(cpu.parameters, gpu.parameters, "parameters")
        Self.expectClose(cpu.slots, gpu.slots, "Adam's slots")
    }

    /// Training steps recorded as CUDA graphs and replayed give the floats of steps enqueued call by
    /// call, for the full batches and the last, smaller one (each with a new dropout mask); batches
    /// gathered from data staged on the device give those copied from host memory.
    @Test(arguments: [(true, true), (false, true), (true, false)])
    func recordedStepsAndStagedDataGiveTheSameFloats(recording: Bool, staging: Bool) throws {
        func run(recording: Bool, staging: Bool) throws -> ([Float], [[Float]], Evaluation, Error?) {
            let model = Sequential { Bidirectional(LSTM(units: 5)); Dropout(rate: 0.3); Dense(units: 5, activation: .softmax) }
            try model.build(inputShape: [6, 5], seed: 8)
            let backend = try Self.backend()
            (backend.recordsSteps, backend.stagesData) = (recording, staging)
            model.backend = backend
            let data = try Self.data()
            let history = try model.fit(data, validation: data, optimizer: SGD(learningRate: 0.1, momentum: 0.9, decay: 0.01),
                                        epochs: 3, batchSize: 16)
            let execution = try #require(try backend.modelExecution(for: model, batchSize: 16) as? CUDAModel)
            return (history.map(\.trainLoss) + history.compactMap(\.testLoss), model.parameters.map(\.tensor.scalars),
                    try model.evaluate(data, batchSize: 16), execution.recordingFailure)
        }
        let (reference, other) = (try run(recording: false, staging: false), try run(recording: recording, staging: staging))
        #expect(other.3 == nil, "\(String(describing: other.3))")
        #expect(reference.0 == other.0 && reference.1 == other.1)
        #expect(reference.2 == other.2)
    }

    /// An LSTM with batch normalisation inside has no device form: the model runs layer by layer
    /// through the backend, and still trains as the CPU does.
    @Test func aLayerWithoutADeviceFormRunsLayerByLayer() throws {
        let makeModel = {
            Sequential { LSTM(units: 6, batchNormalization: StepNormalizationSettings()); Dense(units: 5, activation: .softmax) }
        }
        let cpu = try Self.train(makeModel, on: CPUBackend(), optimizer: SGD(learningRate: 0.1))
        let gpu = try Self.train(makeModel, on: Self.backend(), optimizer: SGD(learningRate: 0.1))
        #expect(!gpu.onDevice)
        Self.expectClose(cpu.parameters, gpu.parameters, "LSTM with batch normalisation")
    }

    /// A layer without a device form inside a container (a residual block's body) keeps the
    /// whole model off the device too: it runs layer by layer, as the CPU trains it.
    @Test func aNestedLayerWithoutADeviceFormRunsTheModelLayerByLayer() throws {
        let makeModel = {
            Sequential {
                GRU(units: 6, returnSequences: true)
                Residual { LSTM(units: 6, returnSequences: true, batchNormalization: StepNormalizationSettings()) }
                Flatten()
                Dense(units: 5, activation: .softmax)
            }
        }
        let cpu = try Self.train(makeModel, on: CPUBackend(), optimizer: SGD(learningRate: 0.1))
        let gpu = try Self.train(makeModel, on: Self.backend(), optimizer: SGD(learningRate: 0.1))
        #expect(!gpu.onDevice)
        Self.expectClose(cpu.parameters, gpu.parameters, "nested GRU")
    }

    @Test func evaluateAndPredictRunOnTheDeviceWithTheHostsParameters() throws {
        let model = Sequential { Bidirectional(LSTM(units: 6)); Dense(units: 5, activation: .softmax) }
        try model.build(inputShape: [6, 5], seed: 2)
        let data = try Self.data(seed: 5)
        try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 16)
        let (evaluation, outputs) = (try model.evaluate(data, batchSize: 16), try model.predict(data.inputs, batchSize: 16))
        model.backend = try Self.backend()
        let onDevice = (try model.evaluate(data, batchSize: 16), try model.predict(data.inputs, batchSize: 16))
        #expect(try model.backend.modelExecution(for: model, batchSize: 16) != nil)
        #expect(abs(onDevice.0.loss - evaluation.loss) < 1e-5 && onDevice.0.accuracy == evaluation.accuracy)
        #expect(onDevice.0.confusionMatrix == evaluation.confusionMatrix)
        Self.expectClose([outputs.scalars], [onDevice.1.scalars], "predictions")
        #expect(onDevice.1.shape == [60, 5])
    }

    /// A model trained with CTC on label sequences (no device kernel for the loss: it trains on
    /// the host path) evaluates and predicts on the device, its last layer on every step
    /// (TimeDistributed), as on the CPU.
    @Test func aCTCModelEvaluatesAndPredictsOnTheDevice() throws {
        let images = try Self.data()
        let sequences = images.labels.map { [$0, ($0 + 1) % 5] }
        let data = try Dataset(inputs: images.inputs, sequences: sequences, classCount: 5)
        let model = Sequential {
            Bidirectional(GRU(units: 5, returnSequences: true))
            TimeDistributed(Dense(units: 6, activation: .softmax))
        }
        try model.build(inputShape: [6, 5], seed: 2)
        try model.fit(data, loss: .ctc, optimizer: Adam(learningRate: 0.01), epochs: 1, batchSize: 16)
        let (evaluation, outputs) = (try model.evaluate(data, loss: .ctc, batchSize: 16), try model.predict(data.inputs, batchSize: 16))
        let backend = try Self.backend()
        model.backend = backend
        let onDevice = (try model.evaluate(data, loss: .ctc, batchSize: 16), try model.predict(data.inputs, batchSize: 16))
        #expect(try backend.modelExecution(for: model, batchSize: 16) != nil && backend.failure == nil)
        #expect(abs(onDevice.0.loss - evaluation.loss) < 1e-4 * evaluation.loss)
        #expect(onDevice.0.labelErrorRate == evaluation.labelErrorRate)
        Self.expectClose([outputs.scalars], [onDevice.1.scalars], "predictions")
    }

    /// What keeps a run off the device as a whole is named (what `nn train --device cuda` notes).
    @Test func theReasonAModelTrainsLayerByLayerIsNamed() throws {
        let backend = try Self.backend(), data = try Self.data()
        func reason(_ model: Sequential, loss: Loss = .categoricalCrossEntropy, data: Dataset? = nil) throws -> String? {
            try model.build(inputShape: [6, 5], seed: 1)
            return try backend.layerByLayerReason(for: model, data: data ?? Self.data(), loss: loss, optimizer: Adam(),
                                                  batchSize: 16)
        }
        #expect(try reason(Sequential { LSTM(units: 4); Dense(units: 5, activation: .softmax) }) == nil)
        #expect(try reason(Sequential {
            LSTM(units: 4, batchNormalization: StepNormalizationSettings())
            Dense(units: 5, activation: .softmax)
        })?.contains("batch normalisation inside") == true)
        #expect(try reason(Sequential { LSTM(units: 4); Dense(units: 5, activation: .softmax) }, loss: .ctc)
            == "ctc needs outputs [steps, classes + 1], the model's are [5]")
        #expect(try reason(Sequential { LSTM(units: 5); ActivationLayer(.relu) }) == "the model does not end in a Dense layer")
        let padded = try data.withSequenceLengths((0..<data.count).map { 2 + $0 % 4 }, file: "lengths.npy")
        #expect(try reason(Sequential { LSTM(units: 4); Dense(units: 5, activation: .softmax) }, data: padded)?
            .contains("padded sequences") == true)
    }

    /// A run stopped after its third batch and resumed from the checkpoint ends where the
    /// uninterrupted run does: `fit` stores the device's parameters and velocities before the
    /// checkpoint reads them, and the dropout masks come from the streams the checkpoint saves.
    @Test func aStoppedRunResumesExactly() throws {
        func model() throws -> Sequential {
            let model = Sequential { LSTM(units: 6); Dropout(rate: 0.25); Dense(units: 5, activation: .softmax) }
            try model.build(inputShape: [6, 5], seed: 3)
            model.backend = try Self.backend()
            return model
        }
        let data = try Self.data()
        let whole = try model(), wholeOptimizer = SGD(learningRate: 0.1, momentum: 0.9)
        try whole.fit(data, optimizer: wholeOptimizer, epochs: 2, batchSize: 16, seed: 1)

        let first = try model(), optimizer = SGD(learningRate: 0.1, momentum: 0.9)
        var batches = 0, saved: TrainingState?
        try first.fit(data, optimizer: optimizer, epochs: 2, batchSize: 16, seed: 1, onBatch: { _ in batches += 1 },
                      shouldStop: { batches == 3 }, onCheckpoint: { saved = $0 })
        let state = try #require(saved)
        #expect(state.epoch == 0 && state.batchesDone == 3)
        // The checkpoint's parameters and velocities, into a fresh model and optimizer.
        let second = try model(), resumedOptimizer = SGD(learningRate: 0.1, momentum: 0.9)
        for (target, source) in zip(second.parameters, first.parameters) {
            target.tensor = source.tensor
            resumedOptimizer.setVelocity(optimizer.velocity(for: source), for: target)
        }
        resumedOptimizer.iterations = optimizer.iterations
        try second.fit(data, optimizer: resumedOptimizer, epochs: 2, batchSize: 16, seed: 1, resumeFrom: state)
        #expect(whole.parameters.map(\.tensor.scalars) == second.parameters.map(\.tensor.scalars))
    }

    /// Weights that are not finite make the loss NaN: the same error as on the CPU (epoch, batch,
    /// where), before any update, and the host's parameters are the device's when fit returns.
    @Test func aNonfiniteLossStopsAsOnTheCPU() throws {
        func failure(on backend: any Backend) throws -> (TrainingError?, [Float]) {
            let model = Sequential { Flatten(); Dense(units: 5, activation: .softmax) }
            try model.build(inputShape: [6, 5], seed: 3)
            model.backend = backend
            model.parameters[0].values[7] = .nan
            do {
                try model.fit(try Self.data(), optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 16)
                return (nil, [])
            } catch let error as TrainingError {
                return (error, model.parameters[1].tensor.scalars)
            }
        }
        let (cpu, cpuBias) = try failure(on: CPUBackend())
        let (gpu, gpuBias) = try failure(on: Self.backend())
        #expect(cpu != nil && gpu == cpu, "\(String(describing: gpu))")
        #expect(gpuBias == cpuBias && gpuBias.allSatisfy { $0 == 0 })
    }
}
