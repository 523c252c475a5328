import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn predict`: class probabilities for images, one CSV line each.
struct Predict: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a saved model.",
        discussion: """
            INPUT is an IDX images file (raw or .gz) or a PNG or PGM/PPM image (greyscale or colour, \
            resized to the model's input). One line per image: the predicted class, then the \
            probability of every class (CSV); with --top K, the K best as class:probability.
            """)

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "IDX images file, or a PNG or PGM/PPM image.")
    var input: String

    @Option(help: "Print only the K most probable classes.")
    var top: Int?

    @Option(help: "Gate activation for a PyTorch state_dict without one in its metadata.")
    var recurrentActivation: GateActivation?

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
    }

    func execute() throws {
        let network = try loadModel(model, recurrentActivation: recurrentActivation)
        let shape = network.inputShape!
        guard shape.count == 2 else { throw CommandError("\(model): the model does not take images") }
        let inputs = try Self.images(input, rows: shape[0], columns: shape[1])
        let probabilities = network.predict(inputs)
        let classes = probabilities.shape.last!
        var lines: [String] = []
        for row in 0..<probabilities.shape[0] {
            let p = Array(probabilities.scalars[(row * classes)..<((row + 1) * classes)])
            let ranked = p.indices.sorted { p[$0] > p[$1] }
            if let top {
                lines.append(ranked.prefix(top).map { "\($0):" + String(format: "%.6f", p[$0]) }.joined(separator: ","))
            } else {
                lines.append(([String(ranked[0])] + p.map { String(format: "%.6f", $0) }).joined(separator: ","))
            }
        }
        print(lines.joined(separator: "\n"))
    }

    /// The images of an IDX file (must already have the model's size) or one PNG or Netpbm image (resized).
    static func images(_ path: String, rows: Int, columns: Int) throws -> Tensor {
        let head = FileHandle(forReadingAtPath: path).map { handle -> [UInt8] in
            defer { try? handle.close() }
            return [UInt8](handle.readData(ofLength: 8))
        }
        guard let head else { throw CommandError("\(path): cannot read the file") }
        if head.first == UInt8(ascii: "P") || PNGImage.isPNG(head) {
            let original = PNGImage.isPNG(head) ? try PNGImage.read(path: path) : try NetpbmImage.read(path: path)
            let image = original.resized(width: columns, height: rows)
            return Tensor(shape: [1, rows, columns], scalars: image.pixels)
        }
        let file = try IDXFile(path: path, rank: 3)
        guard file.dimensions[1] == rows, file.dimensions[2] == columns else {
            throw CommandError("\(path): images are \(file.dimensions[1])×\(file.dimensions[2]), the model takes \(rows)×\(columns)")
        }
        return Tensor(shape: file.dimensions, scalars: file.bytes.map { Float($0) / 255 })
    }
}
