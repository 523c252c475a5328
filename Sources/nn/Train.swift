import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn train`: a preset (the reference experiment by default), a model spec or a model JSON file,
/// trained on an IDX data set.
struct Train: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model (the reference bidirectional LSTM on Fashion-MNIST by default).",
        discussion: """
            The data is an IDX directory, a folder of PNGs, NumPy arrays (.npz, or .npy with \
            --labels) or a CSV table (with --target). Each image is a sequence (rows are time steps, \
            columns features) or, after flatten, a vector. The default preset, bilstm, reproduces the reference experiment: \
            Bidirectional(LSTM(128)) → Dense(10, softmax), Nesterov SGD, batch 128, 30 epochs. \
            `nn presets` lists the others; flags given beside --preset override its settings. \
            --model takes a one-line spec, e.g. "flatten dense(512, relu) dropout(0.5) dense(classes, softmax)", \
            or a JSON file with a saved model's architecture. After each epoch one line reports \
            train / test loss and accuracy and the seconds since training started.
            """)

    @OptionGroup(title: "Data")
    var dataFlags: DataFlags

    @Option(help: ArgumentHelp("Hold out this seeded fraction of the training data for validation (for data without a test part: one .npy pair, a CSV table, a folder of class folders); replaces the test part where there is one.", valueName: "fraction"))
    var validationSplit: Double?

    @Option(help: "none: inputs as read (IDX, PNG and uint8 NumPy pixels in [0, 1], other numbers as they are); standardize: a Normalization layer first, with the training set's mean and variance per feature; scale: a Rescaling layer first, ÷ 255, for pixels stored as other numbers (saved in the model).")
    var normalize: InputNormalization?

    var data: String? { dataFlags.data }

    @Option(help: "A preset experiment (nn presets lists them). Default: bilstm, the reference experiment.")
    var preset: String?

    @Option(help: "The model: a spec such as \"flatten dense(512, relu) dense(classes, softmax)\" (see the README), or a .json file with a saved model's architecture. Default: the preset's.")
    var model: String?

    @Option(help: "Passes over the training set. Default: the preset's (bilstm: 30).")
    var epochs: Int?

    @Option(help: ArgumentHelp("Stop early once the test loss has not improved for this many epochs (Keras' EarlyStopping on val_loss); the best epoch's model is best.safetensors under --checkpoint.", valueName: "epochs"))
    var patience: Int?

    @Option(help: ArgumentHelp("With --patience: how much lower than the best the test loss must be to count as an improvement. Default: 0.", valueName: "loss"))
    var minDelta: Float?

    @Option(help: ArgumentHelp("Lower the learning rate when the test loss stops improving (Keras' ReduceLROnPlateau on val_loss): after PATIENCE epochs without improvement, multiply it by factor (default 0.1); min_delta (1e-4), cooldown (0) and min_lr (0) as in Keras.", valueName: ReduceLearningRateOnPlateau.flagHelp))
    var reduceLrOnPlateau: String?

    @Option(help: "Samples per gradient step. Default: the preset's (bilstm: 128).")
    var batchSize: Int?

    @Option(help: "LSTM units per direction of the bilstm preset. Default: 128.")
    var units: Int?

    @Option(help: "Gate activation of the bilstm preset: hard-sigmoid (Keras 2's clip(0.2x + 0.5, 0, 1), the reference's), sigmoid (PyTorch's, Keras 3's), tanh, relu, linear.")
    var recurrentActivation: GateActivation?

    @Option(help: "sgd, adam, adamw, rmsprop, adagrad, adamax or nadam, with settings as in a model spec: \"adam(beta_2=0.98)\", \"sgd(momentum=0.9, nesterov=true)\". Default: the preset's (bilstm: sgd).")
    var optimizer: String?

    @Option(help: "Learning rate before any schedule. Default: the preset's (bilstm: 0.1), or Keras' default for another optimizer.")
    var learningRate: Float?

    @Option(help: "Momentum (sgd, rmsprop). Default: the preset's (bilstm: 0.9).")
    var momentum: Float?

    @Flag(inversion: .prefixedNo, help: "Nesterov momentum (sgd). Default: the preset's (bilstm: on).")
    var nesterov: Bool?

    @Option(help: "Learning-rate decay per update, lr / (1 + decay · iterations) (Keras 2). Default: the preset's (bilstm: 1e-6).")
    var decay: Float?

    @Option(help: "Learning-rate schedule over updates: constant, time-decay:D, step:N:FACTOR, exponential:RATE:N, cosine:N[:MIN] (instead of --decay); warmup:N,SCHEDULE rises linearly from 0 over N updates first.")
    var schedule: String?

    @Option(help: "L2 weight decay (sgd, adam, rmsprop, adagrad, adamax, nadam: added to the gradient; adamw: decoupled, default 0.01).")
    var weightDecay: Float?

    @Option(help: "categorical-crossentropy, binary-crossentropy, mean-squared-error (mse), mean-absolute-error (mae), huber or ctc, with settings as in a model spec: huber(delta=2), categorical-crossentropy(label_smoothing=0.1). Default: the preset's.")
    var loss: String?

    @Flag(inversion: .prefixedNo, help: "Reshuffle the training set every epoch. Default: the preset's (bilstm: on; the MLP presets: off, as the reference).")
    var shuffle: Bool?

    @Option(help: "Seed of every random stream (initialisation, shuffling, dropout): the same seed and thread count give the same losses. Default: 0.")
    var seed: UInt64?

    @Option(help: "Threads: 2 runs the two LSTM directions on two cores at once, 1 runs them in turn; more split each direction's batch rows over threads / 2 cores.")
    var threads = 2

    @Option(help: "Write the trained model here (safetensors) at the end.")
    var save: String?

    @Option(help: "Directory for checkpoints after every epoch: last.safetensors, best.safetensors (lowest test loss), history.csv, history.json.")
    var checkpoint: String?

    @Flag(help: "Let --checkpoint replace another run's checkpoints.")
    var overwrite = false

    @Flag(help: "Train even when the model and batch need more memory than the system has available.")
    var noMemoryCheck = false

    @Option(help: "Continue the run checkpointed in this directory (its settings, weights, optimizer and random streams) up to --epochs. Flags given must equal the run's own settings.")
    var resume: String?

    @Option(help: "Write the per-epoch history here after every epoch (.json: JSON, otherwise CSV).")
    var history: String?

    @Option(help: "Scale gradients to at most this global norm before each update (e.g. 1.0); may be added when resuming.")
    var clipNorm: Float?

    @Option(help: "Clamp each gradient value to ±this before each update.")
    var clipValue: Float?

    @Option(help: "Matrix products of the LSTM: float32, or bf16 (bfloat16 products with float32 accumulation and float32 weights; on AVX512-BF16 CPUs and GPU tensor cores, float32 on other CPUs).")
    var precision: Precision?

    @Flag(help: "Under mpirun: compare a hash of the parameters across the processes after every epoch (they must stay identical).")
    var checkReplicas = false

    @Option(help: "cpu (default), or cuda: the first NVIDIA GPU (cuBLAS and the project's kernels; the whole model stays there when its layers have device forms, see README). A resumed run keeps its own unless given.")
    var device: ComputeDevice?

    @Option(help: "Train on the first N training images only.")
    var trainLimit: Int?

    @Option(help: "Test on the first N test images only.")
    var testLimit: Int?

    @Option(help: "The number of classes; labels must lie below it. Default: one more than the largest training label, every class having a sample.")
    var classes: Int?

    func validate() throws {
        func require(_ ok: Bool, _ flag: String, _ range: String, _ value: Any) throws {
            guard ok else { throw ValidationError("\(flag) must be \(range), got \(value)") }
        }
        if let epochs { try require((1...1_000_000).contains(epochs), "--epochs", "in 1...1000000", epochs) }
        if let batchSize { try require((1...65_536).contains(batchSize), "--batch-size", "in 1...65536", batchSize) }
        if let units { try require((1...16_384).contains(units), "--units", "in 1...16384", units) }
        if let learningRate {
            try require(learningRate.isFinite && learningRate > 0, "--learning-rate", "a finite number > 0", learningRate)
        }
        if let momentum { try require(momentum.isFinite && (0..<1).contains(momentum), "--momentum", "in [0, 1)", momentum) }
        if let decay { try require(decay.isFinite && decay >= 0, "--decay", "a finite number ≥ 0", decay) }
        if let weightDecay {
            try require(weightDecay.isFinite && weightDecay >= 0, "--weight-decay", "a finite number ≥ 0", weightDecay)
        }
        try require((1...256).contains(threads), "--threads", "in 1...256", threads)
        if let trainLimit { try require(trainLimit >= 1, "--train-limit", "at least 1", trainLimit) }
        if let testLimit { try require(testLimit >= 1, "--test-limit", "at least 1", testLimit) }
        if let classes { try require((1...65_536).contains(classes), "--classes", "in 1...65536", classes) }
        if let clipNorm { try require(clipNorm.isFinite && clipNorm > 0, "--clip-norm", "a finite number > 0", clipNorm) }
        if let clipValue { try require(clipValue.isFinite && clipValue > 0, "--clip-value", "a finite number > 0", clipValue) }
        if let patience { try require((0...1_000_000).contains(patience), "--patience", "in 0...1000000", patience) }
        if let minDelta { try require(minDelta.isFinite && minDelta >= 0, "--min-delta", "a finite number ≥ 0", minDelta) }
        if minDelta != nil && patience == nil { throw ValidationError("--min-delta goes with --patience (early stopping)") }
        if let reduceLrOnPlateau { _ = try ReduceLearningRateOnPlateau(flag: reduceLrOnPlateau) }
        if let validationSplit {
            try require(validationSplit.isFinite && validationSplit > 0 && validationSplit < 1, "--validation-split",
                        "between 0 and 1", validationSplit)
        }
        if let preset, Preset.named(preset) == nil {
            throw ValidationError("--preset must be one of \(Preset.all.map(\.name).joined(separator: ", ")), got \(preset)")
        }
        if let loss { _ = try parsedLoss(loss) }
        // The optimizer's values are checked here, with the usage of `nn train` (a resumed run's
        // flags set its own optimizer's settings: they are checked with the checkpoint).
        if resume == nil { _ = try optimizerDescription(preset.flatMap(Preset.named) ?? .reference, always: false) }
        if let schedule {
            _ = try LearningRateSchedule(flag: schedule)
            if decay != nil { throw ValidationError("--decay is a schedule: give --schedule time-decay:D (after warmup:N, if any) or --decay, not both") }
        }
        if model != nil && (units != nil || recurrentActivation != nil) {
            throw ValidationError("--units and --recurrent-activation shape the bilstm preset's model; with --model, write them in the spec")
        }
        if let preset, preset != Preset.reference.name, model == nil, units != nil || recurrentActivation != nil {
            throw ValidationError("--units and --recurrent-activation shape the bilstm preset's model, not \(preset)'s")
        }
    }

    /// The model flags as a source: --model, or the bilstm preset with --units / --recurrent-activation.
    func modelSource(_ preset: Preset) throws -> RunSettings.ModelSource? {
        if let model {
            guard model.hasSuffix(".json") else { return .spec(model) }
            let architecture = try ArchitectureFile.read(model, flag: "--model")
            return .file(model, architecture.layers, inputShape: architecture.inputShape)
        }
        guard units != nil || recurrentActivation != nil else { return nil }
        let gate = (recurrentActivation ?? .hardSigmoid).activation.rawValue
        return .spec("bilstm(\(units ?? 128), recurrent_activation=\(gate)) dense(classes, softmax)")
    }

    /// The optimizer the flags and `preset` describe; nil when no optimizer flag was given. The
    /// spec's own settings come first, then the flags for the settings it leaves out (a flag the
    /// optimizer has no setting for is an error), then the preset's for its own optimizer.
    /// A resumed run's flags without `--optimizer` set settings of its own optimizer, `running`.
    func optimizerDescription(_ preset: Preset, always: Bool, running: (any Optimizer)? = nil) throws -> OptimizerDescription? {
        var flags: [(flag: String, key: String, value: Any)] = []
        if let learningRate { flags.append(("--learning-rate", "learning_rate", Double(learningRate))) }
        if let momentum { flags.append(("--momentum", "momentum", Double(momentum))) }
        if let nesterov { flags.append((nesterov ? "--nesterov" : "--no-nesterov", "nesterov", nesterov)) }
        if let weightDecay { flags.append(("--weight-decay", "weight_decay", Double(weightDecay))) }
        if let schedule { flags.append(("--schedule", "schedule", try jsonValue(LearningRateSchedule(flag: schedule)))) }
        if let decay { flags.append(("--decay", "schedule", try jsonValue(decay > 0 ? LearningRateSchedule.timeDecay(decay) : .constant))) }
        guard optimizer != nil || !flags.isEmpty || always else { return nil }
        let spec = try parsedOptimizer(optimizer ?? running?.typeName ?? preset.optimizer), own = spec.settings
        // An optimizer without spec defaults names its settings once made (makeOptimizer checks the flags' then).
        let settings = spec.settingNames
        // SGD's `decay` is its time decay: a schedule as well.
        let scheduled = own["schedule"] != nil || own["decay"] != nil
        let flagsSchedule = flags.contains { $0.key == "schedule" }
        for (flag, key, _) in flags {
            if let settings, !settings.contains(key) {
                throw ValidationError("\(flag) sets \(key), which \(spec.name) does not have (its settings: \(settings.joined(separator: ", ")))")
            }
            if own[key] != nil || (key == "schedule" && scheduled) {
                throw ValidationError("\(flag) and --optimizer \(optimizer ?? "") both set the \(key): give it once")
            }
        }
        var presets: [String: Any] = [:]
        if let running, optimizer == nil {
            // The run's own settings beneath the flags (SGD's decay gives way to a flag's schedule).
            presets = try optimizerObject(running)
            presets["type"] = nil
            if flagsSchedule { presets["decay"] = nil }
        } else if spec.name == (try parsedOptimizer(preset.optimizer)).name {
            presets["learning_rate"] = Double(preset.learningRate)
            if preset.momentum > 0 { presets["momentum"] = Double(preset.momentum) }
            if preset.nesterov { presets["nesterov"] = true }
            if preset.decay > 0, !scheduled, !flagsSchedule {
                presets["schedule"] = try jsonValue(LearningRateSchedule.timeDecay(preset.decay))
            }
        }
        let over = Dictionary(flags.map { ($0.key, $0.value) }) { _, last in last }
        do {
            return OptimizerDescription(try spec.makeOptimizer(beneath: presets, over: over))
        } catch let error as ModelSpecError {
            throw ValidationError("--optimizer, column \(error.column): \(error.message)")
        }
    }

    /// What a run trains, once the data, model and optimizer are ready.
    struct PreparedRun {
        let model: Sequential, optimizer: any Optimizer, loss: Loss, run: RunSettings, epochs: Int
        let resumed: Checkpoint?, trainSet: Dataset, testSet: Dataset?
    }

    func execute() throws {
        // One direction per core, each with single-threaded BLAS (OpenBLAS's count is process-wide).
        BLAS.threadCount = 1
        let distributed = try DistributedTraining.join(checksReplicas: checkReplicas)
        let leader = distributed?.isLeader ?? true
        let prepared = try distributed.map { group in try group.agree { try prepare(leader: leader) } }
            ?? prepare(leader: leader)
        var settings = prepared.run.stored
        settings["data_fingerprint"] = try prepared.trainSet.fingerprint()
        settings["test_fingerprint"] = try prepared.testSet?.fingerprint()
        if let distributed {
            // Each rank may read its own copy of the data, at its own path: the samples must agree.
            var compared = settings.merging(["epochs": "\(prepared.epochs)", "check_replicas": "\(checkReplicas)",
                                             "optimizer": try optimizerSettings(prepared.optimizer),
                                             "model": try canonicalJSON(prepared.model.layerDescriptions)]) { $1 }
            // Paths of files may differ too; what they hold is in the fingerprints.
            (compared["data"], compared["labels"], compared["lengths"]) = (nil, nil, nil)
            try distributed.requireSameSettings(compared)
        }
        try train(prepared, settings: settings, distributed: distributed)
    }

    /// Reads the data, builds or loads the model, and checks everything before the first batch
    /// (the output paths where `leader`, the process that writes them).
    private func prepare(leader: Bool) throws -> PreparedRun {
        let resumedPath = resume.map { ($0 as NSString).appendingPathComponent("last.safetensors") }
        let resumed = try resumedPath.map { try Checkpoint(path: $0) }
        let run = try resumed.map { try resumedSettings($0, path: resumedPath!) } ?? newSettings()
        let parts = try DataFiles.open(run.data, options: try run.dataFlags.options(classCount: run.classes))
        var (trainSet, testSet) = try run.dataFlags.withLengths(train: parts.train, test: parts.test, data: run.data)
        var testPart = "test"
        if let split = run.validationSplit {
            (trainSet, testSet) = try trainSet.split(validationFraction: split, seed: run.seed)
            testPart = "validation (\(split) held out)"
        }
        trainSet = trainSet.prefix(run.trainLimit)
        testSet = testSet?.prefix(run.testLimit)
        do {
            trainSet = try run.dataFlags.lines(of: trainSet, training: true)
            testSet = try testSet.map { try run.dataFlags.lines(of: $0, training: false) }
        } catch let error as CommandError where dataFlags.lines == nil {
            let problem = error.description.replacingOccurrences(of: "--lines: ", with: "")
            throw CommandError("the \(run.preset.name) preset trains on lines of images (as --lines makes them): \(problem)")
        }
        print("data: \(run.data) (\(parts.format)): \(trainSet.count) training and \(testSet?.count ?? 0) \(testPart) "
              + "samples of \(trainSet.shapeText), \(trainSet.targetText)")
        if let resumed { try checkSameData(resumed, trainSet, testSet, path: resumedPath!) }

        let lossFunction = run.loss
        let model: Sequential, optimizer: any Optimizer
        let sampleShape = trainSet.sampleShape
        if let resumed {
            (model, optimizer) = (resumed.model, resumed.optimizer)
            try model.requireInput(sampleShape, data: run.data)
        } else {
            // A spec's `classes`: one output per class, and a sequence loss's extra ones (the blank).
            let outputs = trainSet.classCount > 0 ? trainSet.classCount + lossFunction.extraOutputs : trainSet.targetWidth
            var layers = try run.model.layers(classes: outputs)
            if run.normalize != .none, try layers.first?.makeLayer() is Embedding {
                throw CommandError("--normalize puts a layer before the embedding, and its ids would no longer be ids: drop --normalize")
            }
            if run.normalize == .standardize {
                // One statistic for all pixels of a grey image, one per feature or colour channel otherwise.
                let perFeature = sampleShape.count == 1 || sampleShape.last == 3
                layers.insert(LayerDescription(Normalization(perFeature: perFeature)), at: 0)
            }
            if run.normalize == .scale {
                guard !readsBytesAsPixels(trainSet.inputs) else {
                    throw CommandError("--normalize scale divides by 255, and \(run.data) holds bytes, which are read as "
                                       + "pixels in [0, 1] already: drop it, or use --normalize standardize")
                }
                layers.insert(LayerDescription(Rescaling(scale: 1 / 255)), at: 0)
            }
            if case .file(let file, _, let inputShape?) = run.model, inputShape != sampleShape {
                throw CommandError("--model \(file) takes inputs \(inputShape), the data has \(sampleShape)")
            }
            let chosen = try run.optimizer!.makeOptimizer()
            if !noMemoryCheck { try checkMemory(layers, inputShape: sampleShape, batchSize: run.batchSize, optimizer: chosen) }
            model = Sequential(layers: try layers.map { try $0.makeLayer() })
            do {
                try model.build(inputShape: sampleShape, seed: run.seed)
            } catch let error as ShapeError {
                throw CommandError("the model does not fit samples of \(trainSet.shapeText): \(error)")
            }
            for case let normalization as Normalization in model.layers { try normalization.adapt(to: trainSet) }
            model.classNames = trainSet.classNames
            model.featureNames = trainSet.featureNames
            optimizer = chosen
        }
        do { try model.requireOutputs(fitting: trainSet, loss: lossFunction) } catch let error as ShapeError {
            // Advice on the model's end only where its outputs do not fit; the other errors say what to change.
            guard error.description.hasPrefix("the model outputs") else { throw CommandError("\(error)") }
            let ending = lossFunction.takesSequences ? "timedistributed(dense(classes, softmax)) after a recurrent layer with return_sequences=true"
                : trainSet.classCount > 0 ? "dense(classes, softmax)" : "dense(classes) (classes: the target width)"
            throw CommandError("\(error): end the model with \(ending)")
        }
        try requireCTCAsNNReadsIt(lossFunction, model: model)
        if run.earlyStopping != nil && testSet == nil {
            throw CommandError("--patience watches the test loss, and \(run.data) has no test part: hold one out with --validation-split F")
        }
        if run.plateau != nil && testSet == nil {
            throw CommandError("--reduce-lr-on-plateau watches the test loss, and \(run.data) has no test part: hold one out with --validation-split F")
        }
        if trainSet.sequenceLengths != nil {
            // Before the summary and the first batch, not at fit's own check.
            do { try model.checkPaddedSequences() } catch let error as ShapeError { throw CommandError("--lengths: \(error)") }
        }
        model.threads = threads
        model.precision = run.precision
        try run.device.apply(to: model, keptIn: device == nil ? resume : nil)
        // On a GPU, bf16 products run on tensor cores whatever the CPU has.
        if model.precision == .bfloat16 && run.device != .cuda && !Precision.bfloat16Supported {
            FileHandle.standardError.write(Data("nn: this CPU has no AVX512-BF16: bf16 runs as float32\n".utf8))
        }
        // Every output is checked before the first batch: no run ends with its work unsaved.
        if leader, let save { try OutputPaths.checkFile(save, flag: "--save") }
        if leader, let history { try OutputPaths.checkFile(history, flag: "--history") }
        if leader, let checkpoint { try OutputPaths.checkCheckpointDirectory(checkpoint, resuming: resume, overwrite: overwrite) }
        let epochs = self.epochs ?? (resumed == nil ? run.preset.epochs : max(resumed!.state.epoch, run.preset.epochs))

        print(model.summary(), terminator: "")
        if let state = resumed?.state {
            for report in state.history { print(report.line) }
            if state.epoch >= epochs { print("nothing to do: the checkpoint has \(state.epoch) epoch\(state.epoch == 1 ? "" : "s"), --epochs is \(epochs)") }
        }
        return PreparedRun(model: model, optimizer: optimizer, loss: lossFunction, run: run, epochs: epochs,
                           resumed: resumed, trainSet: trainSet, testSet: testSet)
    }

    /// Refuses, before anything large is allocated, a model and batch that need more memory than is available.
    private func checkMemory(_ layers: [LayerDescription], inputShape: [Int], batchSize: Int, optimizer: any Optimizer) throws {
        guard let available = MemoryEstimate.availableBytes() else { return }
        let need: Int
        do {
            need = try MemoryEstimate.trainingBytes(layers: layers, inputShape: inputShape, batchSize: batchSize,
                                                    optimizerSlots: type(of: optimizer).slotNames.count)
        } catch let error as ShapeError {
            // A size the machine cannot hold, or a layer that does not fit its input.
            guard error.isTooLarge else {
                throw CommandError("the model does not fit its input \(inputShape): \(error)")
            }
            throw CommandError("the model cannot be allocated (\(error)); use fewer units or layers")
        }
        guard need > available else { return }
        throw CommandError("training this model in batches of \(batchSize) needs about \(MemoryEstimate.describe(need)) "
                           + "of memory, and \(MemoryEstimate.describe(available)) is available: use fewer units or a "
                           + "smaller --batch-size (--no-memory-check tries anyway)")
    }

    private func train(_ prepared: PreparedRun, settings: [String: String], distributed: DistributedTraining?) throws {
        let (model, optimizer, loss, run, epochs) = (prepared.model, prepared.optimizer, prepared.loss, prepared.run, prepared.epochs)
        let (resumed, trainSet, testSet) = (prepared.resumed, prepared.trainSet, prepared.testSet)
        let leader = distributed?.isLeader ?? true
        // Ctrl-C or SIGTERM: finish the batch, checkpoint (here if no directory was named), say how to resume.
        let stop = StopRequest.install()
        // The signal that stops the run: this process's, or under mpirun one another rank received
        // (every rank agrees to stop; counted as SIGTERM, the signal mpirun forwards).
        let stopSignal = { stop.signal ?? (distributed?.dataParallel.stopAgreed == true ? SIGTERM : nil) }
        let checkpointDirectory = checkpoint ?? resume
        let interruptDirectory = checkpointDirectory ?? "nn-checkpoint"
        if leader { AtomicFile.removeStaleTemporaries(in: interruptDirectory) }
        var bestLoss = resumed?.state.history.compactMap(\.testLoss).min() ?? .infinity
        let progress = leader ? ProgressBar.make(epochs: epochs) : nil
        let doneBefore = resumed?.state.epoch ?? 0
        if leader, let backend = model.backend as? CUDABackend, let reason = try backend.layerByLayerReason(
            for: model, data: trainSet, loss: loss, optimizer: optimizer, batchSize: run.batchSize) {
            printNote("note: the model trains layer by layer through the GPU, not as a whole there: \(reason)")
        }
        var seen = resumed?.state.history ?? []  // for the plateau rule's notes
        let reports = try model.fit(
            trainSet, validation: testSet, loss: loss, optimizer: optimizer,
            epochs: epochs, batchSize: run.batchSize, seed: run.seed, clipNorm: run.clipNorm, clipValue: run.clipValue,
            shuffle: run.shuffle, resumeFrom: resumed?.state, dataParallel: distributed?.dataParallel,
            earlyStopping: run.earlyStopping, reduceLearningRateOnPlateau: run.plateau,
            onBatch: progress.map { bar in { bar.update($0) } },
            onEpoch: { report in
                progress?.clear()
                print(report.line)
                seen.append(report)
                if let rule = run.plateau, let base = (optimizer as? any ScheduledOptimizer)?.learningRate {
                    let after = rule.learningRate(after: seen, initial: base)
                    if after.loweredAfter.last == report.epoch {
                        // Patience 0 lowers after one epoch without improvement, as 1 does.
                        let epochs = max(rule.patience, 1)
                        print(String(format: "the test loss has not improved for %d epoch%@: base learning rate lowered to %g",
                                     epochs, epochs == 1 ? "" : "s", after.rate))
                    }
                }
                fflush(nil)
            },
            shouldStop: { stop.signal != nil },
            onCheckpoint: { state in
                guard leader else { return }
                let directory = checkpointDirectory ?? (stopSignal() != nil ? interruptDirectory : nil)
                if let directory {
                    // Mid-epoch (after a signal) the state holds the position within the epoch.
                    let checkpoint = Checkpoint(model: model, optimizer: optimizer, state: state, settings: settings)
                    let folder = directory as NSString
                    try checkpoint.write(to: folder.appendingPathComponent("last.safetensors"))
                    if state.batchesDone == 0, let loss = state.history.last?.testLoss, loss < bestLoss {
                        bestLoss = loss
                        try checkpoint.write(to: folder.appendingPathComponent("best.safetensors"))
                    }
                    try History.write(state.history, to: folder.appendingPathComponent("history.csv"))
                    try History.write(state.history, to: folder.appendingPathComponent("history.json"))
                }
                if let history { try History.write(state.history, to: history) }
            })
        if let signal = stopSignal(), (reports.last?.epoch ?? 0) < epochs {
            progress?.clear()
            if leader {
                printError("interrupted (signal \(signal)); checkpoint in \(interruptDirectory)/last.safetensors; "
                           + "continue with: nn train --resume \(interruptDirectory) --epochs \(epochs)")
            }
            distributed?.mpi.finish()
            throw ExitCode(128 + signal)
        }
        if let rule = run.earlyStopping, (reports.last?.epoch ?? 0) < epochs, let best = rule.best(in: reports) {
            print(String(format: "early stop after epoch %d: the test loss has not improved for %d epoch%@ (best %.4f at epoch %d)",
                         reports.last!.epoch, best.epochsSince, best.epochsSince == 1 ? "" : "s", best.report.testLoss!,
                         best.report.epoch))
            // best.safetensors holds the lowest loss, which a --min-delta rule may not count as its best.
            if let directory = checkpointDirectory,
               let lowest = reports.filter({ $0.testLoss?.isFinite == true }).min(by: { $0.testLoss! < $1.testLoss! }) {
                print(String(format: "the lowest test loss, %.4f at epoch %d: %@/best.safetensors", lowest.testLoss!,
                             lowest.epoch, directory))
            }
        }
        if let failure = (model.backend as? CUDABackend)?.failure {
            printNote("warning: the GPU failed and the CPU finished the run: \(failure)")
        }
        if leader, let save { try OutputPaths.save(model, to: save) }
        if let best = reports.filter({ $0.testAccuracy != nil }).max(by: { $0.testAccuracy! < $1.testAccuracy! }),
           reports.count > doneBefore {
            // This run's training and test time, as "in all" counts it: not the time saving files took.
            let seconds = max(reports.last!.elapsedSeconds - (resumed?.state.elapsedSeconds ?? 0), 1e-9)
            let samples = Double((reports.count - doneBefore) * trainSet.count)
            print(String(format: "best test accuracy %.4f at epoch %d; %.2f s in all; %.0f training samples/s",
                         best.testAccuracy!, best.epoch, reports.last!.elapsedSeconds, samples / seconds))
        }
        if let distributed {
            print(try distributed.summary())
            distributed.mpi.finish()
        }
    }
}

enum GateActivation: String, ExpressibleByArgument, CaseIterable {
    case hardSigmoid = "hard-sigmoid"
    case sigmoid, tanh, relu, linear

    var activation: Activation {
        switch self {
        case .hardSigmoid: return .hardSigmoid
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .relu: return .relu
        case .linear: return .linear
        }
    }
}
