import ArgumentParser
import Foundation
import NeuralNetworks

/// `nn predict`: class probabilities for images, one CSV line each.
struct Predict: ReportingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify samples with a saved model.",
        discussion: """
            INPUT is an IDX images file (raw or .gz), a PNG or PGM/PPM image (greyscale or colour, \
            resized to the model's input), a folder of such images, a .npy inputs file, a .npz \
            archive (its test inputs, else its training inputs; --arrays names them) or a .csv \
            table (every column but --target). One line per sample: the predicted class (its name \
            where the model knows the names), then the probability of every class (CSV); with \
            --top K, the K best as class:probability. For a folder each line starts with the \
            file's name. A model without a softmax or sigmoid output prints its output values. \
            A model with an output per step (trained on --lines with the ctc loss) transcribes \
            images of lines instead: each is scaled to the model's line height, laid on its canvas \
            from the left (squeezed if wider), read column by column, and printed as its classes \
            in order (best path; the blank where the model's ctc loss put it, by default the last output).
            """)

    @Option(help: "A model file (safetensors).")
    var model: String

    @Option(help: "IDX images file, a PNG or PGM/PPM image, a folder of images, a .npy, .npz or .csv file.")
    var input: String

    @Option(help: ArgumentHelp("The target column of a .csv input, left out of the features when present.", valueName: "column"))
    var target: String?

    @Option(help: ArgumentHelp("The inputs array of a .npz input. Default: x_test, else x_train.", valueName: "name"))
    var array: String?

    @Option(help: "Print only the K most probable classes.")
    var top: Int?

    @Option(help: ArgumentHelp("For a .npy or .npz input of sequences padded to one length: each sample's real steps, integers in a .npy file (or an array of the .npz input).", valueName: "lengths.npy"))
    var lengths: String?

    @Option(help: "Gate activation for a PyTorch state_dict without one in its metadata.")
    var recurrentActivation: GateActivation?

    @Option(help: "cpu, or cuda: the first NVIDIA GPU (the whole model there when its layers have device forms; see README).")
    var device: ComputeDevice = .cpu

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1, got \(top)") }
        let arrays = ["npy", "npz"].contains((input as NSString).pathExtension.lowercased())
        if lengths != nil && !arrays { throw ValidationError("--lengths goes with a .npy or .npz input of sequences") }
    }

    func execute() throws {
        let network = try loadModel(model, recurrentActivation: recurrentActivation)
        try device.apply(to: network)
        let shape = network.inputShape!
        let names = network.classNames
        if let source = try arraySource(featureNames: network.featureNames) {
            guard source.count > 0 else { throw CommandError("\(input): holds no samples to predict") }
            guard source.sampleShape == shape else {
                throw CommandError("\(input): samples are \(source.sampleShape.map(String.init).joined(separator: "×")), "
                                   + "the model takes \(shape.map(String.init).joined(separator: "×"))")
            }
            let outputs = try network.predict(source, sequenceLengths: try sequenceLengths(for: source))
            if network.outputShape.count == 2 {
                // An output per step: a CTC model's, read as for images of lines (one transcription per sample).
                print(Self.transcriptions(outputs, names: names, loss: try keptLoss(network)).map(Self.csvField).joined(separator: "\n"))
                return
            }
            print(Self.lines(outputs, top: top, names: names, classifying: network.classifies).joined(separator: "\n"))
            return
        }
        var isDirectory: ObjCBool = false
        let folder = FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) && isDirectory.boolValue
        if network.outputShape.count == 2, shape.count == 2 {
            try transcribe(network, files: folder ? try Self.imageFiles(in: input) : [((input as NSString).lastPathComponent, input)])
            return
        }
        if shape.count == 3 && shape[2] == 3 {
            // A colour model: PNGs decoded in colour, resized to its input.
            let files = folder ? try Self.imageFiles(in: input) : [((input as NSString).lastPathComponent, input)]
            let outputs = try network.predict(ImageFiles(files: files.map(\.1), sampleShape: shape))
            let lines = Self.lines(outputs, top: top, names: names, classifying: network.classifies)
            print((folder ? zip(files, lines).map { "\(Self.csvField($0.0.0)),\($0.1)" } : lines).joined(separator: "\n"))
            return
        }
        guard shape.count == 2 else { throw CommandError("\(model): the model does not take images") }
        if FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue {
            // A folder: every image in it, one line each, named.
            let files = try Self.imageFiles(in: input)
            let images = try files.map { try Self.image(($0.path), rows: shape[0], columns: shape[1]) }
            let inputs = Tensor(shape: [files.count] + shape, scalars: images.flatMap(\.pixels))
            try network.checkInput(inputs)
            let lines = Self.lines(network.predict(inputs), top: top, names: names, classifying: network.classifies)
            print(zip(files, lines).map { "\(Self.csvField($0.0.name)),\($0.1)" }.joined(separator: "\n"))
            return
        }
        let inputs = try Self.images(input, rows: shape[0], columns: shape[1])
        try network.checkInput(inputs)
        print(Self.lines(network.predict(inputs), top: top, names: names, classifying: network.classifies)
            .joined(separator: "\n"))
    }

    /// Prints each image's transcription by a model with per-step outputs `[steps, classes + 1]`
    /// over inputs `[columns, height]` (``ImageLines``' layout): `name,class class …`.
    func transcribe(_ network: Sequential, files: [(name: String, path: String)]) throws {
        let (columns, height) = (network.inputShape![0], network.inputShape![1])
        var canvases = [Float](repeating: 0, count: files.count * columns * height)
        for (index, file) in files.enumerated() {
            let bytes = try Self.read(file.path)
            guard PNGImage.isPNG(bytes) || bytes.first == UInt8(ascii: "P") else {
                throw CommandError("\(file.path): not a PNG or PGM/PPM image (a model that transcribes lines reads images)")
            }
            let original = try Self.image(bytes, file.path, rows: nil, columns: nil)
            // The model's line height, the width scaled alike (at most the canvas).
            let width = min(columns, max(1, Int((Double(original.width) * Double(height) / Double(original.height)).rounded())))
            let line = original.resized(width: width, height: height)
            let canvas = index * columns * height
            for x in 0..<width {
                for row in 0..<height { canvases[canvas + x * height + row] = line.pixels[row * width + x] }
            }
        }
        let canvas = Tensor(shape: [files.count, columns, height], scalars: canvases)
        try network.checkInput(canvas)
        let outputs = network.predict(canvas)
        for (file, spelled) in zip(files, Self.transcriptions(outputs, names: network.classNames, loss: try keptLoss(network))) {
            print(Self.csvField(file.name) + "," + Self.csvField(spelled))
        }
    }

    /// The model's loss, for the blank of its transcriptions.
    func keptLoss(_ network: Sequential) throws -> Loss? {
        try network.keptLoss(path: model, remedy: "its transcriptions need the blank it names")
    }

    /// Each sample's classes in order, by the best path through per-step outputs `[samples, steps,
    /// classes + 1]` (the blank where the model's CTC loss has it, else last), as names where the
    /// model has them: `3 1 4`.
    static func transcriptions(_ outputs: Tensor, names: [String]?, loss: Loss?) -> [String] {
        let width = outputs.shape[2]
        return CTCDecoder.greedy(outputs, blank: (loss?.function as? CTCLoss)?.blankIndex(width: width) ?? width - 1).map { labels in
            labels.map { label in names.map { $0[label] } ?? String(label) }.joined(separator: " ")
        }
    }

    /// The inputs of a NumPy or CSV file; nil for the image forms.
    /// The --lengths of `source`'s samples, checked as a data set's are.
    func sequenceLengths(for source: any SampleSource) throws -> [Int]? {
        guard let lengths else { return nil }
        let values = try DataFlags.sequenceLengths(lengths, data: input)
        let samples = try Dataset(inputs: source, values: source).withSequenceLengths(values, file: lengths)
        return samples.sequenceLengths
    }

    /// `featureNames`: the model's (a table's columns are then read by name).
    func arraySource(featureNames: [String]?) throws -> (any SampleSource)? {
        switch (input as NSString).pathExtension.lowercased() {
        case "npy": return try NumPyArray(path: input)
        case "npz":
            let archive = try NumPyArchive(path: input)
            let name = array ?? (archive.names.contains("x_test") ? "x_test" : "x_train")
            return try archive.array(name)
        case "csv": return try CSVTable.features(path: input, excluding: target, featureNames: featureNames)
        default: return nil
        }
    }

    /// One CSV line per row: the predicted class (its name where known), then every class's
    /// probability (or the K best); the output values alone for a model that does not classify.
    static func lines(_ outputs: Tensor, top: Int?, names: [String]? = nil, classifying: Bool = true) -> [String] {
        let width = outputs.count / max(outputs.shape[0], 1)
        return (0..<outputs.shape[0]).map { row in
            var p = Array(outputs.scalars[(row * width)..<((row + 1) * width)])
            guard classifying else { return p.map { String(format: "%.6g", $0) }.joined(separator: ",") }
            if width == 1 { p = [1 - p[0], p[0]] }  // a sigmoid's probability of class 1
            func name(_ index: Int) -> String { names.map { csvField($0[index]) } ?? String(index) }
            let ranked = p.indices.sorted { p[$0] > p[$1] }
            if let top {
                return ranked.prefix(top).map { name($0) + ":" + String(format: "%.6f", p[$0]) }.joined(separator: ",")
            }
            return ([name(ranked[0])] + p.map { String(format: "%.6f", $0) }).joined(separator: ",")
        }
    }

    static let imageExtensions: Set<String> = ["png", "pgm", "ppm", "pnm"]

    /// The image files of a folder (by extension, sorted by name; hidden files left out), or of
    /// its subfolders when it has class folders (`test/<class>/*.png`), named `class/file`.
    static func imageFiles(in folder: String) throws -> [(name: String, path: String)] {
        func listing(_ folder: String) throws -> [String] {
            do { return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted() } catch {
                throw CommandError("\(folder): cannot list the folder (\(InputFile.problem(folder) ?? "permission denied"))")
            }
        }
        func images(_ names: [String]) -> [String] {
            names.filter { imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }
        }
        let names = try listing(folder)
        var found = images(names).map { ($0, (folder as NSString).appendingPathComponent($0)) }
        if found.isEmpty {
            for name in names {
                let sub = (folder as NSString).appendingPathComponent(name)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: sub, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                found += images(try listing(sub)).map { (name + "/" + $0, (sub as NSString).appendingPathComponent($0)) }
            }
        }
        guard !found.isEmpty else {
            throw CommandError("\(folder): no PNG or PGM/PPM images in the folder or its subfolders")
        }
        return found
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

    /// A PNG or Netpbm image from its bytes, resized (kept as it is without a size).
    static func image(_ bytes: [UInt8], _ path: String, rows: Int?, columns: Int?) throws -> GreyImage {
        let original: GreyImage
        if PNGImage.isPNG(bytes) {
            original = try PNGImage.decode(bytes, file: path)
        } else if bytes.first == UInt8(ascii: "P") {
            original = try NetpbmImage.decode(bytes, file: path)
        } else {
            throw CommandError("\(path): not a PNG or PGM/PPM image")
        }
        guard let rows, let columns else { return original }
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
