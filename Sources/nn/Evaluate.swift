import ArgumentParser
import NeuralNetworks

/// `nn evaluate`: loss, accuracy and confusion matrix of a saved model on a test set.
struct Evaluate: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a saved model on the test images of an IDX directory.",
        discussion: "Prints loss, accuracy and the confusion matrix (rows: true class, columns: predicted).")

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "IDX directory; its t10k files are evaluated.")
    var data = "/usr/share/datasets/fashion-mnist"

    @Option(help: "Evaluate the first N test images only.")
    var testLimit: Int?

    @Option(help: "Samples per batch.")
    var batchSize = 128

    @Option(help: "Gate activation for a PyTorch state_dict without one in its metadata.")
    var recurrentActivation: GateActivation?

    @Option(help: "Matrix products of the LSTM: float32 or bf16.")
    var precision: Precision = .float32

    func validate() throws {
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...65536, got \(batchSize)") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1, got \(testLimit)") }
    }

    func execute() throws {
        let network = try loadModel(model, recurrentActivation: recurrentActivation)
        network.precision = precision
        let classes = network.outputShape.last ?? 0
        let test = try IDXDirectory.testSet(directory: data, classCount: classes).prefix(testLimit)
        try network.requireInput(rows: test.rows, columns: test.columns, data: data)
        let evaluation = network.evaluate(test, batchSize: batchSize)
        let matrix = evaluation.confusionMatrix
        print(String(format: "loss: %.4f\taccuracy: %.4f\tsamples: %d", evaluation.loss, evaluation.accuracy, test.count))
        print("confusion matrix (rows: true class, columns: predicted class)")
        let width = max(5, String(test.count).count + 1)
        func cell(_ s: String) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
        print(cell("") + (0..<classes).map { cell(String($0)) }.joined())
        for (label, row) in matrix.enumerated() {
            print(cell(String(label)) + row.map { cell(String($0)) }.joined())
        }
    }
}
