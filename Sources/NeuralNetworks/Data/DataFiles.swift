import Foundation

/// Opens a data set by its path, whatever its format, as `nn train --data` does:
///
/// | path | read as |
/// |---|---|
/// | a directory with `train-images-idx3-ubyte`… | IDX (MNIST layout), train and `t10k` test |
/// | another directory | an ``ImageFolder``: `train/<class>/*.png` (and `test/`), or `<class>/*.png` |
/// | `FILE.npz` | ``NumPyArchive`` arrays `x_train`, `y_train` (and `x_test`, `y_test`) |
/// | `FILE.npy` | ``NumPyArray`` inputs, with ``Options/labels`` naming the targets' `.npy` |
/// | `FILE.csv` | ``CSVTable`` with ``Options/target`` naming the target column |
public enum DataFiles {
    public struct Options: Sendable {
        /// The targets' `.npy` for a `.npy` input file.
        public var labels: String?
        /// The target column of a CSV table.
        public var target: String?
        /// Classes, values or label sequences: for CSV tables and NumPy targets (`auto`: integer
        /// NumPy arrays of one value per sample are classes, other arrays values; CSV as
        /// ``CSVTable/TargetKind``; sequences from NumPy arrays only).
        public var targetKind: CSVTable.TargetKind = .auto
        /// The array names in a `.npz` archive: inputs and targets, training then test.
        public var arrayNames = (xTrain: "x_train", yTrain: "y_train", xTest: "x_test", yTest: "y_test")
        /// Images of an image folder resized to (height, width); nil: all must have one size.
        public var imageSize: (height: Int, width: Int)?
        /// Classes of class targets (nil: from the training labels, each needing a sample).
        public var classCount: Int?

        public init(labels: String? = nil, target: String? = nil) { (self.labels, self.target) = (labels, target) }

        /// What is set that only some formats read, by what it is called (`nn`'s flag) and the
        /// format it goes with: set for another, it would be dropped without a word.
        fileprivate var formatOptions: [(set: Bool, name: String, goesWith: String)] {
            [(labels != nil, "a targets' .npy (nn: --labels)", "a .npy inputs file"),
             (target != nil, "a target column (nn: --target)", "a .csv table"),
             (arrayNames != Options().arrayNames, "array names (nn: --arrays)", "a .npz archive"),
             (imageSize != nil, "an image size (nn: --image-size)", "a folder of images")]
        }

        /// Throws unless every format option set goes with `format` (one of ``formatOptions``'s).
        fileprivate func requireFit(_ format: String, path: String) throws {
            if let stray = formatOptions.first(where: { $0.set && $0.goesWith != format }) {
                throw DataFilesError(path: path, problem: "\(stray.name) goes with \(stray.goesWith), not with \(format)")
            }
        }
    }

    /// What was read: the training part, the test part where the source has one, and a line
    /// describing the source.
    public struct Parts: Sendable {
        public let train: Dataset
        public let test: Dataset?
        public let format: String
    }

    /// The data at `path` (see the table above).
    public static func open(_ path: String, options: Options = Options()) throws -> Parts {
        if try isDirectory(path) {
            if IDXDirectory.holdsIDX(path) {
                try options.requireFit("a folder of IDX files", path: path)
                let idx = try IDXDirectory(directory: path, classCount: options.classCount)
                return Parts(train: idx.train, test: idx.test, format: "IDX")
            }
            try options.requireFit("a folder of images", path: path)
            let folder = try ImageFolder.load(directory: path, size: options.imageSize)
            return Parts(train: folder.train, test: folder.test, format: "image folder")
        }
        switch (path as NSString).pathExtension.lowercased() {
        case "npz":
            try options.requireFit("a .npz archive", path: path)
            let archive = try NumPyArchive(path: path)
            let names = options.arrayNames
            let train = try pair(try archive.array(names.xTrain), try archive.array(names.yTrain), options: options)
            var test: Dataset?
            if archive.names.contains(names.xTest) || archive.names.contains(names.yTest) {
                test = try pair(try archive.array(names.xTest), try archive.array(names.yTest), options: options,
                                classCount: train.classCount > 0 ? train.classCount : nil)
            }
            return Parts(train: train, test: test, format: "NumPy archive")
        case "npy":
            try options.requireFit("a .npy inputs file", path: path)
            guard let labels = options.labels else {
                throw DataFilesError(path: path, problem: "a .npy file holds inputs only: name the targets' .npy too (nn: --labels y.npy)")
            }
            return Parts(train: try pair(try NumPyArray(path: path), try NumPyArray(path: labels), options: options),
                         test: nil, format: "NumPy arrays")
        case "csv":
            try options.requireFit("a .csv table", path: path)
            guard let target = options.target else {
                throw DataFilesError(path: path, problem: "name the target column of the table (nn: --target COLUMN)")
            }
            return Parts(train: try CSVTable.load(path: path, target: target, kind: options.targetKind), test: nil,
                         format: "CSV table")
        default:
            throw DataFilesError(path: path, problem: "not a data set this reads: an IDX or image folder, or a .npz, "
                                 + ".npy or .csv file")
        }
    }

    /// Evaluation data for a model that takes `sampleShape` and knows `classNames`: the test part
    /// where the source has one (an IDX directory's `t10k` files alone are read), else all of it.
    /// `sampleShape` nil: images to be made into lines (an image folder's grey images of the first one's size).
    /// `featureNames` (a model's) picks a table's feature columns by name.
    public static func openForEvaluation(_ path: String, options: Options, sampleShape: [Int]?, classNames: [String]?,
                                         classCount: Int, featureNames: [String]? = nil) throws -> (data: Dataset, part: String) {
        if try isDirectory(path) {
            if IDXDirectory.holdsIDX(path) {
                try options.requireFit("a folder of IDX files", path: path)
                return (try IDXDirectory.testSet(directory: path, classCount: classCount), "t10k test set")
            }
            try options.requireFit("a folder of images", path: path)
            return (try ImageFolder.load(directory: path, sampleShape: sampleShape, classNames: classNames), "image folder")
        }
        if (path as NSString).pathExtension.lowercased() == "csv", let target = options.target {
            try options.requireFit("a .csv table", path: path)
            let table = try CSVTable.load(path: path, target: target, kind: options.targetKind, classNames: classNames,
                                          featureNames: featureNames)
            return (table, "all rows")
        }
        var options = options
        options.classCount = classCount > 0 ? classCount : nil
        let parts = try open(path, options: options)
        return parts.test.map { ($0, "test arrays") } ?? (parts.train, "all samples")
    }

    /// Whether `path` is a directory; an error when nothing is there.
    private static func isDirectory(_ path: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataFilesError(path: path, problem: "no such file or directory")
        }
        return isDirectory.boolValue
    }

    /// NumPy inputs and targets: class indices for a one-dimensional integer array (unless
    /// `targetKind` says values), value samples otherwise.
    static func pair(_ x: NumPyArray, _ y: NumPyArray, options: Options, classCount: Int? = nil) throws -> Dataset {
        guard x.shape.count >= 2 else {
            throw NumPyError(file: x.file, problem: "holds shape \(x.shape): inputs need a sample axis and at least one more")
        }
        let asClasses: Bool
        switch options.targetKind {
        case .classes: asClasses = true
        case .values: asClasses = false
        case .auto: asClasses = y.elementType.isInteger && (y.shape.count == 1 || y.shape.dropFirst() == [1])
        case .sequences: return try labelSequences(x, y, classCount: classCount ?? options.classCount)
        }
        if asClasses {
            let labels = try y.wholeNumbers()
            let classes = classCount ?? options.classCount
            if classes == nil { try Dataset.requireEveryClass(labels, file: y.file) }
            return try Dataset(inputs: x, labels: labels, classCount: classes, inputsName: x.file, labelsName: y.file)
        }
        var values = y
        values.scalesBytes = false
        let targets: any SampleSource = y.shape.count == 1 ? ReshapedSamples(values, sampleShape: [1]) : values
        return try Dataset(inputs: x, values: targets, inputsName: x.file, targetsName: y.file)
    }
}

extension DataFiles {
    /// Label sequences from an integer array `[samples, longest]` (whole-number floats too): each
    /// row a sample's classes in order, padded at its end with -1. `classCount` nil: one more
    /// than the largest class.
    static func labelSequences(_ x: NumPyArray, _ y: NumPyArray, classCount: Int?) throws -> Dataset {
        guard y.shape.count == 2 else {
            throw NumPyError(file: y.file, problem: "holds shape \(y.shape): label sequences are [samples, longest], "
                             + "each row a sample's classes padded at its end with -1")
        }
        let cells = try y.wholeNumbers(of: "label sequences")
        let width = y.shape[1]
        let sequences = try (0..<y.shape[0]).map { row in
            let cells = cells[(row * width)..<((row + 1) * width)]
            let labels = Array(cells.prefix { $0 != -1 })
            if let bad = labels.firstIndex(where: { $0 < 0 }) {
                throw NumPyError(file: y.file, problem: "holds \(labels[bad]) at row \(row), column \(bad): a class "
                                 + "index, or -1 for padding")
            }
            if let after = cells.dropFirst(labels.count).firstIndex(where: { $0 != -1 }) {
                throw NumPyError(file: y.file, problem: "row \(row) holds \(cells[after]) at column \(after - row * width) "
                                 + "after its -1 padding, which goes at the end")
            }
            return labels
        }
        // As for class labels: a stray huge class is an error, not a model of that many outputs.
        if classCount == nil { try Dataset.requireClassLimit(Array(sequences.joined()), file: y.file) }
        return try Dataset(inputs: x, sequences: sequences, classCount: classCount ?? ((sequences.joined().max() ?? 0) + 1),
                           inputsName: x.file, labelsName: y.file)
    }
}

/// A source whose samples are read with another shape of the same size (a `[N]` target array as `[N, 1]`).
struct ReshapedSamples: SampleSource {
    let base: any SampleSource
    let sampleShape: [Int]
    var count: Int { base.count }
    func origin(of index: Int) -> String { base.origin(of: index) }

    init(_ base: any SampleSource, sampleShape: [Int]) { (self.base, self.sampleShape) = (base, sampleShape) }

    func read(_ indices: [Int], into destination: UnsafeMutableBufferPointer<Float>) throws {
        try base.read(indices, into: destination)
    }
}

/// A data path that cannot be opened, and why.
public struct DataFilesError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    public var description: String { "\(path): \(problem)" }
}
