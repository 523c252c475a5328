import Foundation

/// What a data set's samples are trained towards: class indices, dense values for a
/// regression loss such as mean squared error, or a sequence of class indices per sample for a
/// sequence loss (``CTCLoss``).
public enum DatasetTargets: Sendable {
    case classes([Int])
    case values(any SampleSource)
    case sequences([[Int]])

    var isSequences: Bool {
        if case .sequences = self { return true }
        return false
    }
}

/// Samples of one shape and their targets, from any ``SampleSource``: what `fit`, `evaluate`
/// and `predict` take. Batches are converted to `Float` as they are drawn, so a source may stay
/// on disk (a memory-mapped `.npy`, a folder of images) or as bytes in memory (IDX).
///
/// For sequence models a `[rows, columns]` image is a sequence: rows are time steps, columns features.
public struct Dataset: Sendable {
    public let inputs: any SampleSource
    public let targets: DatasetTargets
    /// Classes (0 for value targets).
    public let classCount: Int
    /// The classes' names, where the source has them (CSV target values, image folder names).
    public var classNames: [String]?
    /// The input features' names, where the source has them (a CSV table's columns): a model
    /// trained on them keeps them, so that a table to predict is read by column name.
    public var featureNames: [String]?
    /// For sequences padded to a common number of steps: how many of each sample's steps are
    /// real (the rest is padding that recurrent layers skip, see ``ForwardContext/sequenceLengths``);
    /// nil when every step is. Set with ``withSequenceLengths(_:file:)``.
    public private(set) var sequenceLengths: [Int]?

    public var count: Int { inputs.count }
    public var sampleShape: [Int] { inputs.sampleShape }
    /// Whether each sample has one class (what accuracy and confusion matrices count).
    public var classifies: Bool {
        if case .classes = targets { return true }
        return false
    }

    /// The class targets (empty for value and sequence targets).
    public var labels: [Int] {
        if case .classes(let labels) = targets { return labels }
        return []
    }

    /// Inputs with class labels. Checks that counts agree and that every label is in
    /// `0..<classCount` (with `classCount` nil, `0...max(label)`); `inputsName` and `labelsName`
    /// name the files in errors.
    public init(inputs: any SampleSource, labels: [Int], classCount: Int? = nil, classNames: [String]? = nil,
                inputsName: String = "inputs", labelsName: String = "labels") throws {
        guard inputs.count == labels.count else {
            throw DatasetError.countMismatch(images: inputsName, imageCount: inputs.count,
                                             labels: labelsName, labelCount: labels.count)
        }
        guard inputs.count > 0 else { throw DatasetError.empty(file: inputsName) }
        if classCount == nil { try Self.requireClassLimit(labels, file: labelsName) }
        let classes = classCount ?? ((labels.max() ?? 0) + 1)
        if let bad = labels.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw DatasetError.labelOutOfRange(file: labelsName, index: bad, label: labels[bad], classCount: classes)
        }
        if let classNames, classNames.count != classes {
            throw DatasetError.shapeMismatch(file: labelsName, expected: [classes], found: [classNames.count])
        }
        (self.inputs, self.targets, self.classCount, self.classNames) = (inputs, .classes(labels), classes, classNames)
    }

    /// Inputs with dense targets (one value sample per input sample), for a regression loss.
    public init(inputs: any SampleSource, values: any SampleSource, inputsName: String = "inputs",
                targetsName: String = "targets") throws {
        guard inputs.count == values.count else {
            throw DatasetError.countMismatch(images: inputsName, imageCount: inputs.count,
                                             labels: targetsName, labelCount: values.count)
        }
        guard inputs.count > 0 else { throw DatasetError.empty(file: inputsName) }
        (self.inputs, self.targets, self.classCount, self.classNames) = (inputs, .values(values), 0, nil)
    }

    /// Inputs with a label sequence each (any length, classes in `0..<classCount`), for a
    /// sequence loss such as ``CTCLoss``.
    public init(inputs: any SampleSource, sequences: [[Int]], classCount: Int, classNames: [String]? = nil,
                inputsName: String = "inputs", labelsName: String = "labels") throws {
        guard inputs.count == sequences.count else {
            throw DatasetError.countMismatch(images: inputsName, imageCount: inputs.count,
                                             labels: labelsName, labelCount: sequences.count)
        }
        guard inputs.count > 0 else { throw DatasetError.empty(file: inputsName) }
        for (index, sequence) in sequences.enumerated() {
            if let bad = sequence.first(where: { !(0..<classCount).contains($0) }) {
                throw DatasetError.labelOutOfRange(file: labelsName, index: index, label: bad, classCount: classCount)
            }
        }
        (self.inputs, self.targets, self.classCount, self.classNames) = (inputs, .sequences(sequences), classCount, classNames)
    }

    /// `count × rows × columns` image bytes (read in [0, 1]) with their labels.
    public init(images: [UInt8], labels: [Int], rows: Int, columns: Int, classCount: Int,
                imagesFile: String = "images", labelsFile: String = "labels") throws {
        guard rows > 0, columns > 0 else { throw DatasetError.emptyImages(file: imagesFile, rows: rows, columns: columns) }
        guard images.count % (rows * columns) == 0 else {
            throw DatasetError.shapeMismatch(file: imagesFile, expected: [rows, columns], found: [images.count])
        }
        try self.init(inputs: ByteSamples(bytes: images, sampleShape: [rows, columns]), labels: labels,
                      classCount: classCount, inputsName: imagesFile, labelsName: labelsFile)
    }

    /// Reads an IDX images file (rank 3) and its IDX labels file (rank 1). With `classCount`
    /// nil, the classes are `0...max(label)`, and every one of them must have a sample (a stray
    /// label 200 among 0–9 is an error naming it, not a 201-class model).
    public init(imagesFile: String, labelsFile: String, classCount: Int? = nil) throws {
        let images = try IDXFile(path: imagesFile, rank: 3)
        let labels = try IDXFile(path: labelsFile, rank: 1)
        let labelValues = labels.bytes.map(Int.init)
        if classCount == nil { try Self.requireEveryClass(labelValues, file: labelsFile) }
        try self.init(images: images.bytes, labels: labelValues,
                      rows: images.dimensions[1], columns: images.dimensions[2],
                      classCount: classCount ?? ((labelValues.max() ?? 0) + 1),
                      imagesFile: imagesFile, labelsFile: labelsFile)
    }

    /// Throws when some class below the largest label has no sample (classes counted from labels).
    public static func requireEveryClass(_ labels: [Int], file: String) throws {
        guard let largest = labels.max(), largest >= 0 else { return }
        try requireClassLimit(labels, file: file)
        var present = [Bool](repeating: false, count: largest + 1)
        for label in labels where label >= 0 { present[label] = true }
        let missing = present.indices.filter { !present[$0] }
        if !missing.isEmpty {
            throw DatasetError.skippedClasses(file: file, missing: missing, label: largest,
                                              index: labels.firstIndex(of: largest)!)
        }
    }

    /// The most classes labels may make when no class count is given (as `--classes` allows).
    public static let classLimit = 65_536

    /// Throws when a label would make more classes than ``classLimit`` (a stray huge label must
    /// be an error, not a model of a trillion outputs).
    static func requireClassLimit(_ labels: [Int], file: String) throws {
        if let bad = labels.firstIndex(where: { $0 >= classLimit }) {
            throw DatasetError.labelOutOfRange(file: file, index: bad, label: labels[bad], classCount: classLimit)
        }
    }

    /// The same samples, each of whose sequence is its first `lengths[i]` steps (1...steps), the rest
    /// padding. Samples are `[steps, features…]`, or `[steps]` of ids for an ``Embedding``. Throws
    /// ``DatasetError`` naming `file` for a count or a length that does not fit.
    public func withSequenceLengths(_ lengths: [Int], file: String = "sequence lengths") throws -> Dataset {
        guard sampleShape.count >= 1 else { throw DatasetError.notSequences(file: file, sampleShape: sampleShape) }
        guard lengths.count == count else {
            throw DatasetError.lengthCountMismatch(file: file, lengthCount: lengths.count, sampleCount: count)
        }
        let steps = sampleShape[0]
        if let bad = lengths.firstIndex(where: { !(1...steps).contains($0) }) {
            throw DatasetError.badSequenceLength(file: file, index: bad, length: lengths[bad], steps: steps)
        }
        var result = self
        result.sequenceLengths = lengths
        return result
    }

    /// The sequence lengths of the samples at `indices` (nil when the data set has none).
    public func sequenceLengths<C: Collection>(of indices: C) -> [Int]? where C.Element == Int {
        sequenceLengths.map { lengths in indices.map { lengths[$0] } }
    }

    /// The samples at `indices`, in that order, with their classes, names and sequence lengths.
    public func subset(_ indices: [Int]) -> Dataset {
        var result = subsetWithoutLengths(indices)
        result.sequenceLengths = sequenceLengths(of: indices)
        result.featureNames = featureNames
        return result
    }

    private func subsetWithoutLengths(_ indices: [Int]) -> Dataset {
        let inputs: any SampleSource
        if let bytes = self.inputs as? ByteSamples, indices == Array(0..<indices.count) {
            // A prefix of bytes stays bytes (the form a checkpoint's data fingerprint hashes).
            inputs = ByteSamples(bytes: Array(bytes.bytes.prefix(indices.count * bytes.sampleSize)),
                                 sampleShape: bytes.sampleShape)
        } else {
            inputs = SampleSubset(self.inputs, indices: indices)
        }
        switch targets {
        case .classes(let labels):
            return Dataset(inputs: inputs, targets: .classes(indices.map { labels[$0] }), classCount: classCount,
                           classNames: classNames)
        case .values(let values):
            return Dataset(inputs: inputs, targets: .values(SampleSubset(values, indices: indices)), classCount: 0,
                           classNames: nil)
        case .sequences(let sequences):
            return Dataset(inputs: inputs, targets: .sequences(indices.map { sequences[$0] }), classCount: classCount,
                           classNames: classNames)
        }
    }

    private init(inputs: any SampleSource, targets: DatasetTargets, classCount: Int, classNames: [String]?) {
        (self.inputs, self.targets, self.classCount, self.classNames) = (inputs, targets, classCount, classNames)
    }

    /// The first `n` samples (all when `n` is nil or larger); `n` must be positive.
    public func prefix(_ n: Int?) -> Dataset {
        guard let n, n < count else { return self }
        precondition(n > 0, "a data set needs at least one sample, asked for \(n)")
        return subset(Array(0..<n))
    }

    /// A seeded random `fraction` of the samples held out for validation (Keras'
    /// `validation_split` takes the last ones; a shuffle first keeps sorted files fair): the
    /// same seed gives the same split. Both parts keep their file order.
    public func split(validationFraction fraction: Double, seed: UInt64) throws -> (train: Dataset, validation: Dataset) {
        guard fraction > 0, fraction < 1 else {
            throw DatasetError.badSplit(fraction: fraction, count: count)
        }
        let held = Int((Double(count) * fraction).rounded())
        guard held >= 1, held < count else { throw DatasetError.badSplit(fraction: fraction, count: count) }
        var order = Array(0..<count)
        var generator = RandomGenerator(seed: seed, stream: .validationSplit)
        generator.shuffle(&order)
        return (subset(order[held...].sorted()), subset(order[..<held].sorted()))
    }

    /// The samples at `indices` as a `[batch] + sampleShape` tensor, and their targets.
    public func batch<C: Collection>(_ indices: C) throws -> (inputs: Tensor, targets: Targets) where C.Element == Int {
        let chosen = Array(indices)
        let tensor = try Self.finite(try inputs.tensor(chosen), chosen, inputs, what: "input")
        switch targets {
        case .classes(let labels): return (tensor, .classes(chosen.map { labels[$0] }))
        case .values(let values): return (tensor, .dense(try Self.finite(try values.tensor(chosen), chosen, values, what: "target")))
        case .sequences(let sequences): return (tensor, .sequences(chosen.map { sequences[$0] }))
        }
    }

    /// `tensor`, or an error naming the first sample holding a NaN or an infinity: a bad value in
    /// the data would otherwise surface as a non-finite loss blamed on the learning rate.
    private static func finite(_ tensor: Tensor, _ chosen: [Int], _ source: any SampleSource, what: String) throws -> Tensor {
        guard let bad = tensor.scalars.firstIndex(where: { !$0.isFinite }) else { return tensor }
        let size = max(source.sampleSize, 1)
        throw DatasetError.nonFinite(origin: source.origin(of: chosen[bad / size]), what: what, offset: bad % size,
                                     value: tensor.scalars[bad])
    }

    /// A fingerprint of the samples (FNV-1a over the bytes and labels of byte images; over up to
    /// 4,096 evenly spaced samples' values and all targets otherwise): a resumed run may name its
    /// data by another path only when the files hold the same samples.
    public func fingerprint() throws -> String {
        var hash = FNV1a()
        func mix(_ value: UInt64) { hash.mix(value) }
        func mixSampled(_ source: any SampleSource) throws {
            for index in stride(from: 0, to: count, by: max(1, count / 4096)) {
                for value in try source.tensor([index]).scalars { mix(UInt64(value.bitPattern)) }
            }
        }
        if let bytes = inputs as? ByteSamples {
            bytes.bytes.withUnsafeBufferPointer { for byte in $0 { mix(UInt64(byte)) } }
        } else {
            try mixSampled(inputs)
        }
        for length in sequenceLengths ?? [] { mix(UInt64(length)) }
        switch targets {
        case .classes(let labels): for label in labels { mix(UInt64(truncatingIfNeeded: label)) }
        case .values(let values): try mixSampled(values)
        case .sequences(let sequences):
            for sequence in sequences {
                mix(UInt64(sequence.count))
                for label in sequence { mix(UInt64(truncatingIfNeeded: label)) }
            }
        }
        return String(hash.value, radix: 16)
    }
}

/// The train and test sets of an IDX directory in the MNIST naming.
public struct IDXDirectory {
    public let train: Dataset
    public let test: Dataset

    /// The file names tried for each part, in order: raw, gzip, and the `.idx3-ubyte` spelling.
    static func candidates(_ split: String, _ kind: String, rank: Int) -> [String] {
        let base = "\(split)-\(kind)"
        return ["\(base)-idx\(rank)-ubyte", "\(base)-idx\(rank)-ubyte.gz",
                "\(base).idx\(rank)-ubyte", "\(base).idx\(rank)-ubyte.gz"]
    }

    static func find(_ directory: String, _ names: [String]) throws -> String {
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        throw DatasetError.missingFile(directory: directory, candidates: names)
    }

    /// Loads `train-images`, `train-labels`, `t10k-images` and `t10k-labels` from `directory`.
    /// The classes come from the training labels (or `classCount`, when given: labels must lie
    /// below it); a test label outside them is an error.
    public init(directory: String, classCount: Int? = nil) throws {
        try Self.requireDirectory(directory)
        let trainImages = try Self.find(directory, Self.candidates("train", "images", rank: 3))
        let trainLabels = try Self.find(directory, Self.candidates("train", "labels", rank: 1))
        let testImages = try Self.find(directory, Self.candidates("t10k", "images", rank: 3))
        let testLabels = try Self.find(directory, Self.candidates("t10k", "labels", rank: 1))
        train = try Dataset(imagesFile: trainImages, labelsFile: trainLabels, classCount: classCount)
        test = try Dataset(imagesFile: testImages, labelsFile: testLabels, classCount: train.classCount)
        guard test.sampleShape == train.sampleShape else {
            throw DatasetError.shapeMismatch(file: testImages, expected: train.sampleShape, found: test.sampleShape)
        }
    }

    /// Only the `t10k` files of `directory` (for evaluation: the training set is not read);
    /// labels must lie in `0..<classCount`.
    public static func testSet(directory: String, classCount: Int) throws -> Dataset {
        try requireDirectory(directory)
        return try Dataset(imagesFile: try find(directory, candidates("t10k", "images", rank: 3)),
                           labelsFile: try find(directory, candidates("t10k", "labels", rank: 1)),
                           classCount: classCount)
    }

    /// Whether `directory` holds a training images file in one of the IDX spellings.
    static func holdsIDX(_ directory: String) -> Bool {
        (try? find(directory, candidates("train", "images", rank: 3))) != nil
    }

    private static func requireDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IDXError.unreadable(file: directory, reason: "no such directory")
        }
    }
}
