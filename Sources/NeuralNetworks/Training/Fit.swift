import Foundation

/// One epoch's figures, as in the reference's per-epoch line.
public struct EpochReport: Sendable, Equatable, Codable {
    public let epoch: Int
    /// Running means over the epoch's batches, weighted by batch size (what Keras reports).
    public let trainLoss: Float
    /// Nil for value targets (a regression loss), as for the test figures without a validation set.
    public let trainAccuracy: Float?
    /// From a pass over the validation set after the epoch; nil without one.
    public let testLoss: Float?
    public let testAccuracy: Float?
    /// For label sequences (``CTCLoss``): the validation set's greedy-decoded label error rate
    /// (edit distance ÷ reference length); nil otherwise.
    public var testLabelErrorRate: Float? = nil
    /// The learning rate of the epoch's last update.
    public let learningRate: Float
    /// Seconds since training started (cumulative, as in the reference).
    public let elapsedSeconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss"
        case testAccuracy = "test_accuracy", learningRate = "learning_rate", elapsedSeconds = "seconds"
        case testLabelErrorRate = "test_label_error_rate"
    }

    /// `loss: 0.3487 / 0.1152<TAB>accuracy: 0.9659 / 0.9618<TAB>step 1  107.81 sec`
    public var line: String {
        // Four decimals, or four digits and an exponent past a million (a diverging run's 3.9e+37).
        func f(_ x: Float?) -> String { x.map { String(format: abs($0) < 1e6 ? "%.4f" : "%.4g", $0) } ?? "-" }
        // A regression run (value targets) has no accuracy to show.
        let accuracy = trainAccuracy == nil && testAccuracy == nil ? ""
            : "accuracy: \(f(trainAccuracy)) / \(f(testAccuracy))\t"
        let errors = testLabelErrorRate.map { "label error rate: \(f($0))\t" } ?? ""
        return "loss: \(f(trainLoss)) / \(f(testLoss))\t" + accuracy + errors + "step \(epoch)  " + String(format: "%.2f", elapsedSeconds) + " sec"
    }
}

/// Where a training run stands between epochs: what a checkpoint needs, besides the weights and
/// the optimizer, to continue exactly as the uninterrupted run would have.
public struct TrainingState: Sendable, Equatable, Codable {
    /// Epochs completed.
    public var epoch: Int
    /// The shuffling generator as epoch `epoch + 1` finds it, before it shuffles.
    public var shuffler: [UInt64]
    public var history: [EpochReport]
    public var elapsedSeconds: Double
    /// Batches of epoch `epoch + 1` already trained (a run stopped mid-epoch), and their running sums.
    public var batchesDone: Int = 0
    public var partialLossSum: Double = 0
    public var partialCorrect: Int = 0
    /// The layers' random streams (dropout, noise) by layer path, as the next batch finds them;
    /// nil in checkpoints written before layers drew.
    public var randomStreams: [String: [UInt64]]?

    public init(epoch: Int, shuffler: [UInt64], history: [EpochReport], elapsedSeconds: Double,
                batchesDone: Int = 0, partialLossSum: Double = 0, partialCorrect: Int = 0,
                randomStreams: [String: [UInt64]]? = nil) {
        self.randomStreams = randomStreams
        self.epoch = epoch
        self.shuffler = shuffler
        self.history = history
        self.elapsedSeconds = elapsedSeconds
        self.batchesDone = batchesDone
        self.partialLossSum = partialLossSum
        self.partialCorrect = partialCorrect
    }

    enum CodingKeys: String, CodingKey {
        case epoch, shuffler = "shuffler_state", history, elapsedSeconds = "elapsed_seconds"
        case batchesDone = "batches_done", partialLossSum = "partial_loss_sum", partialCorrect = "partial_correct"
        case randomStreams = "random_streams"
    }
}

/// Where training stands after a batch, for progress bars.
public struct BatchProgress: Sendable {
    public let epoch: Int
    public let samplesDone: Int
    public let samplesTotal: Int
    public let loss: Float
    /// Nil for value targets.
    public let accuracy: Float?
    /// Seconds since the epoch started.
    public let seconds: Double
    /// Seconds spent on the epoch's first batch (slow: buffers are allocated), left out of ETAs.
    public let firstBatchSeconds: Double
    public let firstBatchSamples: Int
}

public struct Evaluation: Sendable, Equatable {
    public let loss: Float
    /// Nil for value targets (a regression loss).
    public let accuracy: Float?
    /// Counts of (true class, predicted class); empty for value targets.
    public let confusionMatrix: [[Int]]
    /// For label sequences: edit distance of the greedy-decoded outputs ÷ reference length.
    public var labelErrorRate: Float? = nil
}

extension Sequential {
    /// The last layer when it ends in the activation `loss` fuses with (softmax for cross-entropy,
    /// sigmoid for binary cross-entropy): the loss is computed from its logits.
    private func fusedLayer(for loss: Loss) -> (any OutputActivationLayer)? {
        guard let activation = loss.fusedActivation, let last = layers.last as? any OutputActivationLayer,
              last.activation == activation else { return nil }
        return last
    }

    /// Loss and its gradient for a batch's outputs: with respect to the logits when fused.
    /// With `stepCounts` (padded sequences), per-step outputs count at their real steps only.
    /// `logits`: the last layer's, when they were not computed by it (a ``ModelExecution``'s pass).
    private func lossValueAndGradient(_ outputs: Tensor, logits: Tensor? = nil, targets: Targets, loss: Loss,
                                      stepCounts: [Int]?) -> (value: Float, gradient: Tensor) {
        if let last = fusedLayer(for: loss) {
            return loss.valueAndGradient(logits: logits ?? last.lastLogits, targets: targets, stepCounts: stepCounts)
        }
        return loss.valueAndGradient(predictions: outputs, targets: targets, stepCounts: stepCounts)
    }

    private func lossAndBackward(_ outputs: Tensor, targets: Targets, loss: Loss, stepCounts: [Int]?) -> Float {
        let (value, gradient) = lossValueAndGradient(outputs, targets: targets, loss: loss, stepCounts: stepCounts)
        if let last = fusedLayer(for: loss) {
            let inputGradient = last.backward(logitsGradient: gradient)
            _ = layers.dropLast().reversed().reduce(inputGradient) { $1.backward($0) }
        } else {
            backward(gradient)
        }
        return value
    }

    /// The class each output row stands for: its largest entry, or with one output column
    /// (a sigmoid's probability) 1 when it is above 0.5.
    static func predictedClasses(_ outputs: Tensor) -> [Int] {
        guard outputs.shape.last == 1 else { return argmaxRows(outputs) }
        return outputs.scalars.map { $0 > 0.5 ? 1 : 0 }
    }

    private static func correctCount(_ predicted: [Int], _ labels: [Int]) -> Int {
        zip(predicted, labels).filter { $0 == $1 }.count
    }

    /// One optimisation step on a batch of class labels (see ``trainStep(_:targets:loss:optimizer:clipNorm:clipValue:epoch:batch:stopRequested:)``).
    @discardableResult
    public func trainStep(_ inputs: Tensor, labels: [Int], loss: Loss, optimizer: any Optimizer,
                          clipNorm: Float? = nil, clipValue: Float? = nil,
                          epoch: Int = 0, batch: Int = 0,
                          stopRequested: (@Sendable () -> Bool)? = nil) throws -> (loss: Float, correct: Int) {
        try trainStep(inputs, targets: .classes(labels), loss: loss, optimizer: optimizer, clipNorm: clipNorm,
                      clipValue: clipValue, epoch: epoch, batch: batch, stopRequested: stopRequested)
    }

    /// One optimisation step on a batch; returns the batch loss and the number it classified right
    /// (before the update, as Keras counts; 0 for dense targets). With `clipNorm`, gradients are scaled to that global
    /// norm at most. A non-finite loss or gradient throws ``TrainingError`` before the update, so
    /// the weights stay as they were. With `sequenceLengths` (padded sequences, one per sample),
    /// padding steps change no state and count in no loss (``ForwardContext/sequenceLengths``).
    @discardableResult
    public func trainStep(_ inputs: Tensor, targets: Targets, loss: Loss, optimizer: any Optimizer,
                          clipNorm: Float? = nil, clipValue: Float? = nil,
                          epoch: Int = 0, batch: Int = 0,
                          stopRequested: (@Sendable () -> Bool)? = nil,
                          sequenceLengths: [Int]? = nil) throws -> (loss: Float, correct: Int) {
        try checkInput(inputs)
        GradientNorm.zero(trainableParameters, threads: threads)
        let (value, correct) = accumulateGradients(inputs, targets: targets, loss: loss, stopRequested: stopRequested,
                                                   sequenceLengths: sequenceLengths)
        // A stop requested during the passes may have cut them short: no update from them.
        if stopRequested?() == true { throw TrainingInterrupted() }
        try applyGradients(loss: value, optimizer: optimizer, clipNorm: clipNorm, clipValue: clipValue,
                           epoch: epoch, batch: batch)
        return (value, correct)
    }

    /// The forward and backward passes of a batch: its loss, the number it classified right (0
    /// for dense targets), and the gradients added into the parameters'.
    func accumulateGradients(_ inputs: Tensor, targets: Targets, loss: Loss, stopRequested: (@Sendable () -> Bool)?,
                             sequenceLengths: [Int]?, batchShard: BatchShard? = nil) -> (loss: Float, correct: Int) {
        let outputs = forward(inputs, training: true, stopRequested: stopRequested, sequenceLengths: sequenceLengths,
                              batchShard: batchShard)
        let value = lossAndBackward(outputs, targets: targets, loss: loss, stepCounts: sequenceLengths)
        guard case .classes(let labels) = targets else { return (value, 0) }
        return (value, Self.correctCount(Self.predictedClasses(outputs), labels))
    }

    /// The update from the gradients in the parameters, once they are checked to be finite (with
    /// the batch `loss`) and clipped.
    func applyGradients(loss value: Float, optimizer: any Optimizer, clipNorm: Float?, clipValue: Float?,
                        epoch: Int, batch: Int) throws {
        let parameters = trainableParameters
        guard value.isFinite else { throw TrainingError(epoch: epoch, batch: batch, location: "loss") }
        let norms = GradientNorm.squaredNorms(parameters, threads: threads)
        if let bad = norms.firstIndex(where: { !$0.isFinite }) {
            throw TrainingError(epoch: epoch, batch: batch, location: parameters[bad].name)
        }
        if let clipValue { GradientNorm.clip(parameters, maxValue: clipValue) }
        if let clipNorm {
            // The norms of the check above, unless clipping by value changed the gradients since.
            let current = clipValue == nil ? norms : GradientNorm.squaredNorms(parameters, threads: threads)
            GradientNorm.clip(parameters, maxNorm: clipNorm, squaredNorms: current)
        }
        optimizer.update(parameters, threads: threads)
    }

    /// Mean loss and accuracy over `data`, in batches (accuracy and confusion matrix for class targets only).
    public func evaluate(_ data: Dataset, loss: Loss = .categoricalCrossEntropy, batchSize: Int = 128) throws -> Evaluation {
        if data.sequenceLengths != nil { try checkPaddedSequences() }
        let device = data.sequenceLengths != nil ? nil : try loadedExecution(batchSize: batchSize)
        return try evaluationTotals(data, samples: 0..<data.count, loss: loss, batchSize: batchSize, device: device)
            .evaluation(data, loss: loss)
    }

    /// The backend's whole-model execution (``ModelExecution``) for batches of up to
    /// `batchSize`, with the model's parameters loaded; nil where the layers run on host memory.
    func loadedExecution(batchSize: Int) throws -> (any ModelExecution)? {
        guard let device = try backend.modelExecution(for: self, batchSize: batchSize) else { return nil }
        try device.load(optimizer: nil)
        return device
    }

    /// The sums an evaluation is made of, over some of `data`'s samples (a data-parallel run
    /// evaluates a part in each process and adds the parts).
    /// With `device`, on it: from `staged` (`data` on the device), else staged now where it fits.
    func evaluationTotals(_ data: Dataset, samples: Range<Int>, loss: Loss, batchSize: Int,
                          device: (any ModelExecution)? = nil, staged: (any StagedData)? = nil) throws -> EvaluationTotals {
        var totals = EvaluationTotals()
        let classes = !data.classifies ? 0 : outputShape.last == 1 ? 2 : outputShape.last ?? 0
        totals.matrix = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var start = samples.lowerBound
        let staged = try staged ?? device?.stage(data)
        while start < samples.upperBound {
            let end = min(start + batchSize, samples.upperBound)
            let lengths = data.sequenceLengths(of: start..<end)
            let targets: Targets, outputs: Tensor, logits: Tensor?
            if let device, let staged, case .classes(let labels) = data.targets {
                targets = .classes(Array(labels[start..<end]))
                (outputs, logits) = try device.forward(.staged(staged, samples: Array(start..<end)))
            } else {
                let (inputs, batchTargets) = try data.batch(start..<end)
                try checkInput(inputs)
                targets = batchTargets
                (outputs, logits) = try device?.forward(.host(inputs, targets: nil))
                    ?? (forward(inputs, training: false, sequenceLengths: lengths), nil)
            }
            let value = lossValueAndGradient(outputs, logits: logits, targets: targets, loss: loss, stepCounts: lengths).value
            totals.lossSum += Double(value) * Double(end - start)
            if let errors = loss.labelErrors(outputs: outputs, targets: targets, stepCounts: lengths) {
                totals.edits += Double(errors.edits)
                totals.referenceLength += Double(errors.length)
            }
            if case .classes(let labels) = targets {
                let predicted = Self.predictedClasses(outputs)
                totals.correct += Double(Self.correctCount(predicted, labels))
                for (guess, label) in zip(predicted, labels) where label < classes && guess < classes {
                    totals.matrix[label][guess] += 1
                }
            }
            start = end
        }
        return totals
    }

    /// The model's outputs for every sample of `inputs`, in batches (class probabilities for a softmax model).
    /// With `sequenceLengths` (one per sample), each sample's sequence is its first that many steps.
    public func predict(_ inputs: any SampleSource, batchSize: Int = 128, sequenceLengths: [Int]? = nil) throws -> Tensor {
        precondition(batchSize > 0, "batch size must be positive")
        precondition(sequenceLengths.map { $0.count == inputs.count } ?? true, "one sequence length per sample")
        if sequenceLengths != nil { try checkPaddedSequences() }
        var scalars: [Float] = []
        var start = 0
        let device = sequenceLengths != nil ? nil : try loadedExecution(batchSize: batchSize)
        while start < inputs.count {
            let end = min(start + batchSize, inputs.count)
            let batch = try inputs.tensor(Array(start..<end))
            try checkInput(batch)
            scalars += try device?.forward(.host(batch, targets: nil)).outputs.scalars
                ?? forward(batch, sequenceLengths: sequenceLengths.map { Array($0[start..<end]) }).scalars
            start = end
        }
        return Tensor(shape: [inputs.count] + outputShape, scalars: scalars)
    }

    /// Trains for `epochs` passes over `train`, reshuffled each epoch from the `shuffling` stream
    /// of `seed` (in file order every epoch with `shuffle` false), evaluating on `validation` after
    /// each. `clipValue` clamps each gradient value to ±clipValue, then `clipNorm` scales all
    /// gradients to that global norm at most. Builds the model from `seed` first if needed.
    ///
    /// `onCheckpoint` receives the ``TrainingState`` after every epoch, and mid-epoch when
    /// `shouldStop` (asked after each batch, and between the time steps of recurrent layers, from
    /// their threads) answers true, after which `fit` returns. Passing a
    /// state back as `resumeFrom` continues exactly where it was taken.
    ///
    /// With `earlyStopping`, training ends once the validation loss has stopped improving (see
    /// ``EarlyStopping``); the history returned then ends before `epochs`.
    /// With `reduceLearningRateOnPlateau`, the learning rate is lowered when the validation loss
    /// stops improving (see ``ReduceLearningRateOnPlateau``; the built-in optimizers), decided from
    /// this run's history: a resumed run continues it, a new fit starts at the full rate.
    ///
    /// With `dataParallel`, this is one process of a group that trains together (see
    /// ``DataParallel``): call it in every process with the same arguments. Each batch of
    /// `batchSize` is split over the processes, and a stop (`shouldStop` true in any process) is
    /// agreed on between batches. Every process's callbacks see the same figures; let one (rank 0)
    /// print and write checkpoints. A state taken with any number of processes resumes with any other.
    @discardableResult
    public func fit(_ train: Dataset, validation: Dataset? = nil, loss: Loss = .categoricalCrossEntropy,
                    optimizer: any Optimizer, epochs: Int, batchSize: Int = 128, seed: UInt64 = 0,
                    clipNorm: Float? = nil, clipValue: Float? = nil, shuffle: Bool = true,
                    resumeFrom resumed: TrainingState? = nil,
                    dataParallel: DataParallel? = nil,
                    earlyStopping: EarlyStopping? = nil,
                    reduceLearningRateOnPlateau plateau: ReduceLearningRateOnPlateau? = nil,
                    onBatch: ((BatchProgress) -> Void)? = nil,
                    onEpoch: ((EpochReport) -> Void)? = nil,
                    shouldStop: (() -> Bool)? = nil,
                    onCheckpoint: ((TrainingState) throws -> Void)? = nil) throws -> [EpochReport] {
        precondition(epochs >= 0 && batchSize > 0, "epochs must be ≥ 0 and batch size > 0")
        let sampleShape = train.sampleShape
        if !isBuilt { try build(inputShape: sampleShape, seed: seed) }
        guard inputShape == sampleShape else {
            throw ShapeError("the model takes inputs \(inputShape!), the data has samples of \(sampleShape)")
        }
        try requireOutputs(fitting: train, loss: loss)
        if earlyStopping != nil && validation == nil {
            throw ShapeError("early stopping watches the validation loss: give validation data (nn: a test part, or --validation-split)")
        }
        if plateau != nil && validation == nil {
            throw ShapeError("reducing the learning rate on a plateau watches the validation loss: give validation data "
                             + "(nn: a test part, or --validation-split)")
        }
        let scheduled = optimizer as? any ScheduledOptimizer
        if plateau != nil && scheduled == nil {
            throw ShapeError("\(optimizer.typeName) does not scale its learning rate: a plateau rule needs a ScheduledOptimizer")
        }
        if train.sequenceLengths != nil || validation?.sequenceLengths != nil { try checkPaddedSequences() }
        if let validation {
            guard validation.sampleShape == sampleShape else {
                throw ShapeError("the validation samples are \(validation.sampleShape), the training samples \(sampleShape)")
            }
            try requireOutputs(fitting: validation, loss: loss)
        }
        self.loss = loss  // what the model file keeps, once the run is sure to start
        // Asked between time steps too, from the layers' threads (so it must be safe to call from any).
        // Not in data-parallel runs: every process must finish the batch, to meet in its reduction.
        let stopCheck: (@Sendable () -> Bool)? = dataParallel != nil ? nil : shouldStop.map { check in
            let box = UncheckedSendable(check)
            return { box.value() }
        }
        var shuffler = RandomGenerator(seed: seed, stream: .shuffling)
        var history: [EpochReport] = []
        var previousSeconds = 0.0
        if let resumed {
            guard let saved = RandomGenerator(stateWords: resumed.shuffler) else {
                throw ShapeError("the saved shuffling state is not a generator state")
            }
            shuffler = saved
            try randomStreams.restore(resumed.randomStreams ?? [:])
            history = resumed.history
            previousSeconds = resumed.elapsedSeconds
        }
        // The whole model on the backend's device where it can train this run there (whole
        // sequences, one process); stored back after each epoch and at the end.
        let execution = dataParallel != nil || train.sequenceLengths != nil
            ? nil : try backend.modelExecution(for: self, batchSize: batchSize)
        let device = execution?.canTrain(loss: loss, optimizer: optimizer) == true ? execution : nil
        try device?.load(optimizer: optimizer)
        let stagedTrain = try device?.stage(train)
        let stagedValidation = try validation.flatMap { try device?.stage($0) }  // once per run, as the training set
        defer { try? device?.store(optimizer: optimizer) }
        let firstEpoch = (resumed?.epoch ?? 0) + 1
        let start = Date()
        // A run resumed after it stopped early has nothing left to do.
        if let earlyStopping, earlyStopping.stops(after: history) { return history }
        /// The plateau rule's factor for the epoch after `history` (1 without a rule: a later fit
        /// without one trains at the optimizer's own rate).
        func scaleLearningRate() {
            guard let scheduled else { return }
            let base = scheduled.learningRate
            let rate = plateau?.learningRate(after: history, initial: base).rate ?? base
            optimizer.state.learningRateFactor = base > 0 ? rate / base : 1
        }
        scaleLearningRate()
        for epoch in stride(from: firstEpoch, through: epochs, by: 1) {
            let shufflerAtEpochStart = shuffler
            var order = Array(0..<train.count)
            if shuffle { shuffler.shuffle(&order) }
            let epochStart = Date()
            var lossSum: Double = 0, correct = 0, done = 0
            var firstBatchSeconds = 0.0, firstBatchSamples = 0
            var batchStart = 0
            if let resumed, epoch == firstEpoch, resumed.batchesDone > 0 {
                batchStart = min(resumed.batchesDone * batchSize, train.count)
                (lossSum, correct, done) = (resumed.partialLossSum, resumed.partialCorrect, batchStart)
            }
            /// Where the run stands before the batch at `batchStart`: the epoch's shuffling start,
            /// the batches done and their running sums, the random streams.
            func midEpochState() -> TrainingState {
                TrainingState(epoch: epoch - 1, shuffler: shufflerAtEpochStart.stateWords, history: history,
                              elapsedSeconds: previousSeconds + Date().timeIntervalSince(start),
                              batchesDone: batchStart / batchSize, partialLossSum: lossSum, partialCorrect: correct,
                              randomStreams: randomStreams.states)
            }
            while batchStart < train.count {
                let end = min(batchStart + batchSize, train.count)
                let step: (loss: Float, correct: Int)
                var stopAgreed = false
                if let dataParallel {
                    let result = try dataParallel.trainStep(
                        self, data: train, order: order[batchStart..<end], loss: loss, optimizer: optimizer,
                        clipNorm: clipNorm, clipValue: clipValue, epoch: epoch, batch: batchStart / batchSize + 1,
                        shouldStop: shouldStop)
                    (step, stopAgreed) = ((result.loss, result.correct), result.stop)
                } else if let device {
                    step = try device.trainStep(.of(train, order[batchStart..<end], staged: stagedTrain), loss: loss,
                                                optimizer: optimizer, clipNorm: clipNorm, clipValue: clipValue, epoch: epoch,
                                                batch: batchStart / batchSize + 1)
                } else {
                    let (inputs, targets) = try train.batch(order[batchStart..<end])
                    let streamsBefore = stopCheck == nil ? [:] : randomStreams.states
                    do {
                        step = try trainStep(inputs, targets: targets, loss: loss, optimizer: optimizer, clipNorm: clipNorm,
                                             clipValue: clipValue, epoch: epoch, batch: batchStart / batchSize + 1,
                                             stopRequested: stopCheck,
                                             sequenceLengths: train.sequenceLengths(of: order[batchStart..<end]))
                    } catch is TrainingInterrupted {
                        // Stopped inside the batch: checkpoint where it began, as if it had not started.
                        try randomStreams.restore(streamsBefore)
                        try onCheckpoint?(midEpochState())
                        return history
                    }
                }
                lossSum += Double(step.loss) * Double(end - batchStart)
                correct += step.correct
                done = end
                let seconds = Date().timeIntervalSince(epochStart)
                if batchStart == 0 { (firstBatchSeconds, firstBatchSamples) = (seconds, end) }
                onBatch?(BatchProgress(epoch: epoch, samplesDone: done, samplesTotal: train.count,
                                       loss: Float(lossSum / Double(done)),
                                       accuracy: train.classifies ? Float(correct) / Float(done) : nil,
                                       seconds: seconds, firstBatchSeconds: firstBatchSeconds,
                                       firstBatchSamples: firstBatchSamples))
                batchStart = end
                if batchStart < train.count, dataParallel == nil ? shouldStop?() == true : stopAgreed {
                    try device?.store(optimizer: optimizer)
                    try onCheckpoint?(midEpochState())
                    return history
                }
            }
            try device?.store(optimizer: optimizer)
            // An update may overflow the values themselves (a huge rate): the next batch's loss says
            // so, but none follows the last; the epoch's values are checked before they are kept.
            if let overflowed = parameters.first(where: { !$0.valuesAreFinite }) {
                throw TrainingError(epoch: epoch, batch: (train.count + batchSize - 1) / batchSize, location: overflowed.name,
                                    afterUpdate: true)
            }
            let learningRate = optimizer.learningRate(iteration: max(optimizer.iterations - 1, 0))
            let test = try validation.map { validation in
                // On the device with the parameters just stored from it: nothing to load again.
                try dataParallel?.evaluate(self, validation, loss: loss, batchSize: batchSize)
                    ?? device.map { device in
                        try evaluationTotals(validation, samples: 0..<validation.count, loss: loss, batchSize: batchSize,
                                             device: device, staged: stagedValidation).evaluation(validation, loss: loss)
                    }
                    ?? evaluate(validation, loss: loss, batchSize: batchSize)
            }
            var report = EpochReport(epoch: epoch, trainLoss: Float(lossSum / Double(done)),
                                     trainAccuracy: train.classifies ? Float(correct) / Float(done) : nil,
                                     testLoss: test?.loss, testAccuracy: test?.accuracy,
                                     learningRate: learningRate,
                                     elapsedSeconds: previousSeconds + Date().timeIntervalSince(start))
            report.testLabelErrorRate = test?.labelErrorRate
            history.append(report)
            scaleLearningRate()
            try dataParallel?.checkReplicas(self, epoch: epoch)
            onEpoch?(report)
            try onCheckpoint?(TrainingState(epoch: epoch, shuffler: shuffler.stateWords, history: history,
                                            elapsedSeconds: report.elapsedSeconds, randomStreams: randomStreams.states))
            if let earlyStopping, earlyStopping.stops(after: history) { return history }
            let stop = shouldStop?() == true
            if epoch < epochs, try dataParallel?.anyStops(stop) ?? stop { return history }
        }
        return history
    }
}

extension Sequential {
    /// Throws unless the model's outputs fit the data's targets and `loss`: one column per class
    /// (or one sigmoid column for two classes), the shape of the value targets, or for label
    /// sequences steps of one column per class and the loss's extra ones (the blank).
    public func requireOutputs(fitting data: Dataset, loss: Loss? = nil) throws {
        if let loss {
            if case .sequences = data.targets, !loss.takesSequences {
                throw ShapeError("the data has label sequences: train them with a sequence loss (ctc), not \(loss.typeName)")
            }
            if loss.takesSequences, !(data.targets.isSequences) {
                throw ShapeError("\(loss.typeName) trains label sequences, and the data has one target per sample "
                                 + "(label sequences are a NumPy array's rows of classes padded with -1, nn: --targets "
                                 + "sequences, or images made into lines, nn: --lines TRAIN,TEST)")
            }
        }
        switch data.targets {
        case .sequences:
            let outputs = data.classCount + (loss?.extraOutputs ?? 1)
            guard outputShape.count == 2, outputShape[1] == outputs else {
                throw ShapeError("the model outputs \(outputShape); label sequences of \(data.classCount) classes need "
                                 + "[steps, \(outputs)] (a column per class and the blank)")
            }
        case .classes:
            if data.classCount == 1 {
                let name = data.classNames?.first.map { " (\($0))" } ?? ""
                throw ShapeError("every sample of the data is of one class\(name): a classifier needs samples of two classes or more")
            }
            guard outputShape == [data.classCount] || (outputShape == [1] && data.classCount <= 2) else {
                throw ShapeError("the model outputs \(outputShape), the data has \(data.classCount) classes")
            }
            // A softmax over one output is 1 whatever the label: nothing to learn, and label 1 has no column.
            if outputShape == [1], loss?.function is CategoricalCrossEntropy {
                throw ShapeError("categorical cross-entropy needs an output per class, the model has one: "
                                 + "train one output with binary cross-entropy")
            }
        case .values(let values):
            guard outputShape == values.sampleShape else {
                throw ShapeError("the model outputs \(outputShape), the data's targets are \(values.sampleShape)")
            }
            // A softmax over one output is 1 whatever the target: the loss is 0 and nothing is learned.
            if outputShape.last == 1, loss?.function is CategoricalCrossEntropy {
                throw ShapeError("categorical cross-entropy over one output is 0 whatever the target, and the targets are "
                                 + "values, one per sample: read class labels as classes (nn: --targets classes), "
                                 + "or train values with a regression loss (mse)")
            }
        }
        try loss?.function.requireFits(data, outputShape: outputShape)
    }
}

extension RandomGenerator {
    /// Fisher–Yates with a fixed rule (multiply-high bounding), so that a seed gives the same
    /// order on every platform and Swift version.
    public mutating func shuffle(_ array: inout [Int]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = Int(next().multipliedFullWidth(by: UInt64(i + 1)).high)
            array.swapAt(i, j)
        }
    }
}

/// Sums over evaluated samples: of the batch losses weighted by batch size, of the samples
/// classified right, of the label sequences' edit distances and reference lengths.
struct EvaluationTotals {
    var lossSum: Double = 0, correct: Double = 0, edits: Double = 0, referenceLength: Double = 0
    var matrix: [[Int]] = []

    /// The four sums, for adding over processes.
    var sums: [Double] {
        get { [lossSum, correct, edits, referenceLength] }
        set { (lossSum, correct, edits, referenceLength) = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }

    func evaluation(_ data: Dataset, loss: Loss) -> Evaluation {
        let count = Double(max(data.count, 1))
        var evaluation = Evaluation(loss: Float(lossSum / count), accuracy: data.classifies ? Float(correct) / Float(count) : nil,
                                    confusionMatrix: matrix)
        if loss.takesSequences { evaluation.labelErrorRate = Float(edits / max(referenceLength, 1)) }
        return evaluation
    }
}

/// A value handed to other threads on the caller's word that it is safe there.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
