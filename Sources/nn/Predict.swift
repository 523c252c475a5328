import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn predict`: class probabilities for images, one CSV line each.
struct Predict: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify images with a saved model.",
        discussion: """
            INPUT is an IDX images file (raw or .gz), a PNG or PGM/PPM image (greyscale or colour, \
            resized to the model's input), or a folder of such images. One line per image: the \
            predicted class, then the probability of every class (CSV); with --top K, the K best \
            as class:probability. For a folder each line starts with the file's name.
            """)

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "IDX images file, a PNG or PGM/PPM image, or a folder of images.")
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
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
            // A folder: every image in it, one line each, named.
            let files = try Self.imageFiles(in: input)
            let images = try files.map { try Self.image(($0.path), rows: shape[0], columns: shape[1]) }
            let inputs = Tensor(shape: [files.count] + shape, scalars: images.flatMap(\.pixels))
            let lines = Self.lines(network.predict(inputs), top: top)
            print(zip(files, lines).map { "\(Self.csvField($0.0.name)),\($0.1)" }.joined(separator: "\n"))
            return
        }
        let inputs = try Self.images(input, rows: shape[0], columns: shape[1])
        print(Self.lines(network.predict(inputs), top: top).joined(separator: "\n"))
    }

    /// One CSV line per row: the predicted class, then every class's probability (or the K best).
    static func lines(_ probabilities: Tensor, top: Int?) -> [String] {
        let classes = probabilities.shape.last!
        return (0..<probabilities.shape[0]).map { row in
            let p = Array(probabilities.scalars[(row * classes)..<((row + 1) * classes)])
            let ranked = p.indices.sorted { p[$0] > p[$1] }
            if let top {
                return ranked.prefix(top).map { "\($0):" + String(format: "%.6f", p[$0]) }.joined(separator: ",")
            }
            return ([String(ranked[0])] + p.map { String(format: "%.6f", $0) }).joined(separator: ",")
        }
    }

    static let imageExtensions: Set<String> = ["png", "pgm", "ppm", "pnm"]

    /// The image files of a folder (by extension, sorted by name; hidden files left out).
    static func imageFiles(in folder: String) throws -> [(name: String, path: String)] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw CommandError("\(folder): cannot list the folder (\(InputFile.problem(folder) ?? "permission denied"))")
        }
        let images = names.filter { !$0.hasPrefix(".") && imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted()
        guard !images.isEmpty else {
            throw CommandError("\(folder): no PNG or PGM/PPM images in the folder")
        }
        return images.map { ($0, (folder as NSString).appendingPathComponent($0)) }
    }

    /// A file name as one CSV field (quoted when it holds a comma, a quote or a line break).
    static func csvField(_ name: String) -> String {
        guard name.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return name }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One PNG or Netpbm image, resized to the model's input.
    static func image(_ path: String, rows: Int, columns: Int) throws -> GreyImage {
        try image(read(path), path, rows: rows, columns: columns)
    }

    /// The bytes of a file the user named, or one line saying why not.
    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try InputFile.read(path) { CommandError("\(path): cannot read the file: \($0)") })
    }

    /// A PNG or Netpbm image from its bytes, resized.
    static func image(_ bytes: [UInt8], _ path: String, rows: Int, columns: Int) throws -> GreyImage {
        let original: GreyImage
        if PNGImage.isPNG(bytes) {
            original = try PNGImage.decode(bytes, file: path)
        } else if bytes.first == UInt8(ascii: "P") {
            original = try NetpbmImage.decode(bytes, file: path)
        } else {
            throw CommandError("\(path): not a PNG or PGM/PPM image")
        }
        return original.resized(width: columns, height: rows)
    }

    /// The images of an IDX file (must already have the model's size) or one PNG or Netpbm image (resized).
    static func images(_ path: String, rows: Int, columns: Int) throws -> Tensor {
        let bytes = try read(path)
        let named = imageExtensions.contains((path as NSString).pathExtension.lowercased())
        if named || bytes.first == UInt8(ascii: "P") || PNGImage.isPNG(bytes) {
            let image = try Self.image(bytes, path, rows: rows, columns: columns)
            return Tensor(shape: [1, rows, columns], scalars: image.pixels)
        }
        let file = try IDXFile(contents: bytes, file: path, rank: 3)
        guard file.dimensions[1] == rows, file.dimensions[2] == columns else {
            throw CommandError("\(path): images are \(file.dimensions[1])×\(file.dimensions[2]), the model takes \(rows)×\(columns)")
        }
        return Tensor(shape: file.dimensions, scalars: file.bytes.map { Float($0) / 255 })
    }
}
