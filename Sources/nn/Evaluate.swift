import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn evaluate`: loss, accuracy and confusion matrix of a saved model on a test set.
struct Evaluate: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a saved model on a test set.",
        discussion: """
            Reads the test part of --data (an IDX directory's t10k files, a PNG folder's test/, a .npz \
            archive's test arrays), or all of it where there is none (a .npy pair, a CSV table). Prints \
            loss, accuracy and the confusion matrix (rows: true class, columns: predicted), or for \
            value targets the loss alone. With --lines, the test images made into lines (as nn train \
            made them) and the label error rate of a CTC model's transcriptions.
            """)

    @Option(help: "A model file (safetensors).")
    var model: String

    @OptionGroup(title: "Data")
    var dataFlags: DataFlags

    @Option(help: "Evaluate the first N test samples only.")
    var testLimit: Int?

    @Option(help: "Samples per batch.")
    var batchSize = 128

    @Option(help: "categorical-crossentropy, binary-crossentropy, mean-squared-error (mse), mean-absolute-error (mae), huber or ctc, with settings as nn train takes them. Default: categorical-crossentropy for classes, mse for value targets, ctc with --lines.")
    var loss: String?

    @Option(help: "With --lines: also decode by prefix beam search keeping this many prefixes (default: best path only).")
    var beamWidth: Int?

    @Option(help: "Gate activation for a PyTorch state_dict without one in its metadata.")
    var recurrentActivation: GateActivation?

    @Option(help: "Matrix products of the LSTM: float32 or bf16.")
    var precision: Precision = .float32

    @Option(help: "cpu, or cuda: the first NVIDIA GPU (the whole model there when its layers have device forms; see README).")
    var device: ComputeDevice = .cpu

    func validate() throws {
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...65536, got \(batchSize)") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1, got \(testLimit)") }
        if let beamWidth, !(1...1024).contains(beamWidth) { throw ValidationError("--beam-width must be in 1...1024, got \(beamWidth)") }
        if beamWidth != nil && dataFlags.lines == nil { throw ValidationError("--beam-width decodes the lines of --lines") }
        if let loss { _ = try parsedLoss(loss) }
    }

    func execute() throws {
        let network = try loadModel(model, recurrentActivation: recurrentActivation)
        network.precision = precision
        try device.apply(to: network)
        let lines = dataFlags.lines != nil
        // The loss asked for, else the one the model was trained with (its file keeps it).
        let named = try loss.map(parsedLoss)
        let kept = named == nil ? try network.keptLoss(path: model, remedy: "name the loss with --loss") : nil
        let given = named ?? kept ?? (lines || dataFlags.targets == .sequences ? .ctc : nil)
        if let given, given.takesSequences, network.outputShape.count != 2 {
            throw CommandError("\(given.typeName) reads label sequences from per-step outputs [steps, classes + 1], and "
                               + "\(model) outputs \(network.outputShape)")
        }
        if let given { try requireCTCAsNNReadsIt(given, model: network) }
        // One output per class, beside a sequence loss's extra ones (the blank).
        let outputs = network.outputShape == [1] ? 2 : network.outputShape.last ?? 0
        let classes = outputs - (given?.extraOutputs ?? 0)
        let path = dataFlags.data ?? DataFlags.defaultData
        let (full, part) = try DataFiles.openForEvaluation(path, options: try dataFlags.reading(for: given?.typeName).options(),
                                                           sampleShape: lines ? nil : network.inputShape!,
                                                           classNames: network.classNames, classCount: classes,
                                                           featureNames: network.featureNames)
        let measured = try dataFlags.withLengths(evaluating: full, testPart: ["t10k test set", "test arrays"].contains(part), path: path)
        let test = try dataFlags.lines(of: measured.prefix(testLimit), training: false)
        do { try network.requireInput(test.sampleShape, data: path) } catch let error as CommandError where !lines {
            // A model with per-step outputs over wider samples was most likely trained on lines.
            guard network.outputShape.count == 2 else { throw error }
            throw CommandError("\(error) (a model trained with --lines evaluates on lines: pass --lines TRAIN,TEST)")
        }
        let lossFunction = given ?? (test.classCount > 0 ? .categoricalCrossEntropy : .meanSquaredError)
        do { try network.requireOutputs(fitting: test, loss: lossFunction) } catch let error as ShapeError {
            throw CommandError("\(path): \(error)")
        }
        let evaluation = try network.evaluate(test, loss: lossFunction, batchSize: batchSize)
        let whose = named != nil ? "--loss" : kept != nil ? "the model's" : "the default: the model file keeps none"
        print("loss function: \(lossFunction.specText) (\(whose))")
        if let errorRate = evaluation.labelErrorRate {
            print(String(format: "loss: %.4f\tlabel error rate: %.4f (best path)\tlines: %d (%@)", evaluation.loss, errorRate,
                         test.count, part))
            if let beamWidth, case .sequences(let references) = test.targets, let ctc = lossFunction.function as? CTCLoss {
                let probabilities = try network.predict(test.inputs, batchSize: batchSize)
                let decoded = CTCDecoder.beamSearch(probabilities, blank: ctc.blankIndex(width: outputs), beamWidth: beamWidth)
                print(String(format: "label error rate: %.4f (beam search, %d prefixes)",
                             CTCDecoder.labelErrorRate(decoded, references), beamWidth))
            }
            return
        }
        guard let accuracy = evaluation.accuracy else {
            print(String(format: "loss: %.6f\tsamples: %d (%@)", evaluation.loss, test.count, part))
            return
        }
        let matrix = evaluation.confusionMatrix
        print(String(format: "loss: %.4f\taccuracy: %.4f\tsamples: %d (%@)", evaluation.loss, accuracy, test.count, part))
        print("confusion matrix (rows: true class, columns: predicted class)")
        let width = max(5, String(test.count).count + 1)
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        print(cell("") + (0..<matrix.count).map { cell(String($0)) }.joined())
        for (label, row) in matrix.enumerated() {
            print(cell(String(label)) + row.map { cell(String($0)) }.joined())
        }
        if let names = network.classNames {
            print("classes: " + names.enumerated().map { "\($0) \($1)" }.joined(separator: ", "))
        }
    }
}
