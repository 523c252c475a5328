import Foundation

/// Labelled images kept as bytes (`count × rows × columns`); batches are converted to `Float`
/// in [0, 1] as they are drawn, so a data set costs one byte per pixel in memory.
///
/// For sequence models an image is a sequence: rows are time steps, columns are features.
public struct Dataset: Sendable {
    public let images: [UInt8]
    public let labels: [Int]
    public let count: Int
    public let rows: Int
    public let columns: Int
    public let classCount: Int

    /// Checks that sizes agree and that every label is in `0..<classCount`.
    public init(images: [UInt8], labels: [Int], rows: Int, columns: Int, classCount: Int,
                imagesFile: String = "images", labelsFile: String = "labels") throws {
        guard rows > 0, columns > 0 else { throw DatasetError.emptyImages(file: imagesFile, rows: rows, columns: columns) }
        guard images.count % (rows * columns) == 0 else {
            throw DatasetError.shapeMismatch(file: imagesFile, expected: [rows, columns], found: [images.count])
        }
        let imageCount = images.count / (rows * columns)
        guard imageCount == labels.count else {
            throw DatasetError.countMismatch(images: imagesFile, imageCount: imageCount,
                                             labels: labelsFile, labelCount: labels.count)
        }
        guard imageCount > 0 else { throw DatasetError.empty(file: imagesFile) }
        if let bad = labels.firstIndex(where: { !(0..<classCount).contains($0) }) {
            throw DatasetError.labelOutOfRange(file: labelsFile, index: bad, label: labels[bad], classCount: classCount)
        }
        self.images = images
        self.labels = labels
        self.count = imageCount
        self.rows = rows
        self.columns = columns
        self.classCount = classCount
    }

    /// Reads an IDX images file (rank 3) and its IDX labels file (rank 1). With `classCount`
    /// nil, the classes are `0...max(label)`, and every one of them must have a sample (a stray
    /// label 200 among 0–9 is an error naming it, not a 201-class model).
    public init(imagesFile: String, labelsFile: String, classCount: Int? = nil) throws {
        let images = try IDXFile(path: imagesFile, rank: 3)
        let labels = try IDXFile(path: labelsFile, rank: 1)
        let labelValues = labels.bytes.map(Int.init)
        if classCount == nil, let largest = labelValues.max() {
            var present = [Bool](repeating: false, count: largest + 1)
            for label in labelValues { present[label] = true }
            let missing = present.indices.filter { !present[$0] }
            if !missing.isEmpty {
                throw DatasetError.skippedClasses(file: labelsFile, missing: missing, label: largest,
                                                  index: labelValues.firstIndex(of: largest)!)
            }
        }
        try self.init(images: images.bytes, labels: labelValues,
                      rows: images.dimensions[1], columns: images.dimensions[2],
                      classCount: classCount ?? ((labelValues.max() ?? 0) + 1),
                      imagesFile: imagesFile, labelsFile: labelsFile)
    }

    /// The first `n` samples (all when `n` is nil or larger); `n` must be positive.
    public func prefix(_ n: Int?) -> Dataset {
        guard let n, n < count else { return self }
        precondition(n > 0, "a data set needs at least one sample, asked for \(n)")
        let size = rows * columns
        return try! Dataset(images: Array(images[0..<(n * size)]), labels: Array(labels[0..<n]),
                            rows: rows, columns: columns, classCount: classCount)
    }

    /// The samples at `indices` as a `[batch, rows, columns]` tensor scaled to [0, 1], and their labels.
    public func batch<C: Collection>(_ indices: C) -> (inputs: Tensor, labels: [Int]) where C.Element == Int {
        let size = rows * columns
        var scalars = [Float](repeating: 0, count: indices.count * size)
        scalars.withUnsafeMutableBufferPointer { out in
            images.withUnsafeBufferPointer { pixels in
                for (slot, index) in indices.enumerated() {
                    let source = pixels.baseAddress! + index * size
                    let destination = out.baseAddress! + slot * size
                    for k in 0..<size { destination[k] = Float(source[k]) / 255 }
                }
            }
        }
        return (Tensor(shape: [indices.count, rows, columns], scalars: scalars), indices.map { labels[$0] })
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
        guard test.rows == train.rows, test.columns == train.columns else {
            throw DatasetError.shapeMismatch(file: testImages, expected: [train.rows, train.columns],
                                             found: [test.rows, test.columns])
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

    private static func requireDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw IDXError.unreadable(file: directory, reason: "no such directory")
        }
    }
}
