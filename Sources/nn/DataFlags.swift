import ArgumentParser
import Foundation
import NeuralNetworks

/// The flags that name a data set, shared by `train`, `evaluate` and `predict` (see `DataFiles`).
struct DataFlags: ParsableArguments {
    static let defaultData = "/usr/share/datasets/fashion-mnist"

    @Option(help: ArgumentHelp("The data: an IDX directory (train-/t10k- files), a folder of PNGs (train/<class>/, test/<class>/, or <class>/ alone), a .npz archive, a .npy inputs file (with --labels) or a .csv table (with --target). Default: \(DataFlags.defaultData).", valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp("The targets' .npy file for a .npy --data (class indices, or values for a regression loss).", valueName: "y.npy"))
    var labels: String?

    @Option(help: ArgumentHelp("The target column (its header) of a .csv --data; every other column is a numeric feature.", valueName: "column"))
    var target: String?

    @Option(help: "How targets are read: auto (integer class labels, or CSV text, are classes; fractional numbers and float arrays are values; with --loss ctc, a NumPy array's rows are label sequences), classes, values, or sequences (rows of classes padded with -1, as nn lines writes them).")
    var targets: CSVTable.TargetKind?

    @Option(help: ArgumentHelp("The arrays of a .npz --data: inputs and targets for training, then for testing.", valueName: "x_train,y_train,x_test,y_test"))
    var arrays: String?

    @Option(help: ArgumentHelp("Resize the images of a PNG folder to this size (default: all must have the first one's size).", valueName: "HxW"))
    var imageSize: String?

    @Option(help: ArgumentHelp("Make the images into lines of 1–5 side by side, each labelled with its classes in order (a task for --loss ctc): TRAIN lines of the training images, TEST of the test images, laid out from fixed seeds.", valueName: "TRAIN,TEST"))
    var lines: String?

    @Option(help: ArgumentHelp("For sequences padded to one length: each sample's real steps, integers in a .npy file (or an array of a .npz --data), for the training samples, then the test samples. Padding steps change no recurrent state and count in no loss.", valueName: "train.npy[,test.npy]"))
    var lengths: String?

    func validate() throws {
        _ = try parsedArrays()
        _ = try parsedImageSize()
        _ = try parsedLines()
        _ = try parsedLengths()
        if lengths != nil && lines != nil {
            throw ValidationError("--lengths and --lines do not go together: the lines are laid out on a canvas of their own")
        }
        // Without --data (the default data, or a resumed run's own) the data files check them.
        if let data, labels != nil && !data.lowercased().hasSuffix(".npy") {
            throw ValidationError("--labels goes with a .npy --data (the targets of its inputs)")
        }
        if let data, target != nil && !data.lowercased().hasSuffix(".csv") {
            throw ValidationError("--target goes with a .csv --data (its target column)")
        }
    }

    func parsedArrays() throws -> (xTrain: String, yTrain: String, xTest: String, yTest: String)? {
        guard let arrays else { return nil }
        let names = arrays.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard names.count == 4, names.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--arrays takes four names, x_train,y_train,x_test,y_test; got \(arrays)")
        }
        return (names[0], names[1], names[2], names[3])
    }

    func parsedImageSize() throws -> (height: Int, width: Int)? {
        guard let imageSize else { return nil }
        let parts = imageSize.lowercased().split(separator: "x").map { Int($0) }
        guard parts.count == 2, let height = parts[0], let width = parts[1], (1...8192).contains(height),
              (1...8192).contains(width) else {
            throw ValidationError("--image-size takes HEIGHTxWIDTH, each in 1...8192, e.g. 28x28; got \(imageSize)")
        }
        return (height, width)
    }

    func parsedLines() throws -> (train: Int, test: Int)? {
        guard let lines else { return nil }
        let counts = lines.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard counts.count == 2, let train = counts[0], let test = counts[1], (1...1_000_000).contains(train),
              (1...1_000_000).contains(test) else {
            throw ValidationError("--lines takes two counts, TRAIN,TEST, each in 1...1000000, e.g. 20000,2000; got \(lines)")
        }
        return (train, test)
    }

    func parsedLengths() throws -> [String]? {
        guard let lengths else { return nil }
        let parts = lengths.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--lengths takes one or two .npy files (or .npz array names), TRAIN[,TEST]; got \(lengths)")
        }
        return parts.map { $0.lowercased().hasSuffix(".npy") ? absolutePath($0) : $0 }
    }

    /// Each sample's real steps, from a .npy file of --lengths (or the array of that name in the
    /// .npz at `data`, the data's own file). `nn predict --lengths` reads them the same way.
    static func sequenceLengths(_ reference: String, data: String) throws -> [Int] {
        if reference.lowercased().hasSuffix(".npy") { return try NumPyArray(path: reference).integers(of: "sequence lengths") }
        guard data.lowercased().hasSuffix(".npz") else {
            throw CommandError("--lengths \(reference): not a .npy file (array names go with a .npz data file)")
        }
        return try NumPyArchive(path: data).array(reference).integers(of: "sequence lengths")
    }

    /// The training and test sets with their sequence lengths (with --lengths; as they are without).
    func withLengths(train: Dataset, test: Dataset?, data: String) throws -> (train: Dataset, test: Dataset?) {
        guard let references = try parsedLengths() else { return (train, test) }
        if test != nil && references.count == 1 {
            throw CommandError("\(data) has test samples too: give their lengths as well, --lengths TRAIN,TEST")
        }
        if test == nil && references.count == 2 {
            throw CommandError("\(data) has no test samples: --lengths takes one file, for its samples")
        }
        let trainSet = try train.withSequenceLengths(try Self.sequenceLengths(references[0], data: data), file: references[0])
        let testSet = try test.map { try $0.withSequenceLengths(try Self.sequenceLengths(references[1], data: data), file: references[1]) }
        return (trainSet, testSet)
    }

    /// Evaluation samples with their sequence lengths: the second --lengths file for a data set's
    /// test part, the first otherwise (and when only one is given).
    func withLengths(evaluating data: Dataset, testPart: Bool, path: String) throws -> Dataset {
        guard let references = try parsedLengths() else { return data }
        let reference = testPart ? references.last! : references[0]
        return try data.withSequenceLengths(try Self.sequenceLengths(reference, data: path), file: reference)
    }

    /// `data` as lines of its images (with --lines; as it is without): the training lines laid
    /// out from seed 1, the test lines from seed 2, so that every run and evaluation sees the same lines.
    func lines(of data: Dataset, training: Bool) throws -> Dataset {
        guard let counts = try parsedLines() else { return data }
        do {
            return try ImageLines.dataset(from: data, count: training ? counts.train : counts.test, seed: training ? 1 : 2)
        } catch let error as ShapeError {
            throw CommandError("--lines: \(error)")
        }
    }

    /// The reading options the flags give, for the data at `path`.
    func options(classCount: Int? = nil) throws -> DataFiles.Options {
        var options = DataFiles.Options(labels: labels.map(absolutePath), target: target)
        options.targetKind = targets ?? .auto
        if let names = try parsedArrays() { options.arrayNames = names }
        options.imageSize = try parsedImageSize()
        options.classCount = classCount
        return options
    }

    /// These flags for a run with `loss`: a sequence loss (ctc) reads targets as label sequences
    /// unless --targets says otherwise or --lines makes them (and a checkpoint keeps that).
    func reading(for loss: String?) -> DataFlags {
        var flags = self
        if flags.targets == nil && lines == nil && loss == CTCLoss.typeName { flags.targets = .sequences }
        return flags
    }

    /// The settings a checkpoint keeps, so that a resumed run reads its data alike.
    var stored: [String: String] {
        var s: [String: String] = [:]
        if let labels { s["labels"] = absolutePath(labels) }
        if let target { s["target"] = target }
        if let targets { s["targets"] = targets.rawValue }
        if let arrays { s["arrays"] = arrays }
        if let imageSize { s["image_size"] = imageSize }
        if let lines { s["lines"] = lines }
        if let references = try? parsedLengths() { s["lengths"] = references.joined(separator: ",") }
        return s
    }

    /// These flags as a resumed run reads them: a flag given must equal the run's own.
    func resumed(from saved: [String: String], path: String) throws -> DataFlags {
        var flags = self
        /// A file that may be another copy at another path: `Train.checkSameData` compares what it holds.
        func movable(_ flag: String, _ given: String?, _ key: String) throws -> String? {
            guard let given else { return saved[key] }
            guard saved[key] != nil else {
                throw CommandError("\(flag) \(given) is not a setting of the run (\(path)): drop it to continue that run")
            }
            return given
        }
        func same(_ flag: String, _ given: String?, _ key: String) throws -> String? {
            guard let given = try movable(flag, given, key), let own = saved[key], given != own else { return saved[key] }
            throw CommandError("\(flag) \(given) differs from the run's own \(own) (\(path)): drop it to continue that run")
        }
        flags.labels = try movable("--labels", labels.map(absolutePath), "labels")
        flags.target = try same("--target", target, "target")
        flags.targets = try same("--targets", targets?.rawValue, "targets").flatMap(CSVTable.TargetKind.init(rawValue:))
        flags.arrays = try same("--arrays", arrays, "arrays")
        flags.imageSize = try same("--image-size", imageSize, "image_size")
        flags.lines = try same("--lines", lines, "lines")
        flags.lengths = try movable("--lengths", (try parsedLengths())?.joined(separator: ","), "lengths")
        return flags
    }
}

extension CSVTable.TargetKind: ExpressibleByArgument {}

/// `--normalize`: what `nn train` does to the inputs before the model's first layer.
enum InputNormalization: String, ExpressibleByArgument, CaseIterable {
    /// As read: IDX, PNG and uint8 NumPy pixels in [0, 1], other numbers as they are.
    case none
    /// A Normalization layer first, with the training set's mean and variance per feature
    /// (per column of a table, per colour channel; one for all pixels of a grey image).
    case standardize
    /// A Rescaling layer first, ÷ 255: pixel values stored as floats or CSV numbers.
    case scale
}

/// Whether a source's values are bytes read as pixels in [0, 1] already (IDX, PNG, uint8 arrays).
func readsBytesAsPixels(_ source: any SampleSource) -> Bool {
    switch source {
    case is ByteSamples, is ImageFiles: return true
    case let array as NumPyArray: return array.elementType == .uint8 && array.scalesBytes
    case let subset as SampleSubset: return readsBytesAsPixels(subset.base)
    default: return false
    }
}

extension Dataset {
    /// `28×28`, `20`, `32×32×3`.
    var shapeText: String { sampleShape.map(String.init).joined(separator: "×") }

    /// `10 classes`, `targets of 1 value` for value targets, `label sequences of 1–5 of 10 classes`.
    var targetText: String {
        switch targets {
        case .values(let values): return "targets of \(values.sampleShape.map(String.init).joined(separator: "×")) value(s)"
        case .sequences(let sequences):
            let lengths = sequences.map(\.count)
            return "label sequences of \(lengths.min() ?? 0)–\(lengths.max() ?? 0) of \(classCount) classes"
        case .classes: return "\(classCount) classes"
        }
    }
}

extension Dataset {
    /// Values per target sample (value targets), for a model spec's `classes`.
    var targetWidth: Int {
        if case .values(let values) = targets { return values.sampleSize }
        return classCount
    }
}
