import Foundation
import Testing
@testable import NeuralNetworks

struct DatasetTests {
    /// Writes the four files of an IDX directory; `spelling` picks the file-name variant.
    static func writeDirectory(_ url: URL, trainLabels: [UInt8] = [0, 1, 2, 1], testLabels: [UInt8] = [2, 0],
                               trainImages: Int = 4, spelling: (String, String, Int) -> String = { "\($0)-\($1)-idx\($2)-ubyte" }) throws {
        try Data(IDXBytes.images(count: trainImages)).write(to: url.appendingPathComponent(spelling("train", "images", 3)))
        try Data(IDXBytes.labels(trainLabels)).write(to: url.appendingPathComponent(spelling("train", "labels", 1)))
        try Data(IDXBytes.images(count: testLabels.count)).write(to: url.appendingPathComponent(spelling("t10k", "images", 3)))
        try Data(IDXBytes.labels(testLabels)).write(to: url.appendingPathComponent(spelling("t10k", "labels", 1)))
    }

    @Test func directoryOfRawFilesIsRead() throws {
        let url = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeDirectory(url)
        let data = try IDXDirectory(directory: url.path)
        #expect(data.train.count == 4 && data.test.count == 2)
        #expect(data.train.sampleShape == [2, 3])
        #expect(data.train.classCount == 3)
    }

    @Test func dotSpellingAndGzipAreFound() throws {
        let url = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeDirectory(url, spelling: { "\($0)-\($1).idx\($2)-ubyte" })
        let raw = url.appendingPathComponent("train-images.idx3-ubyte")
        try Data(IDXBytes.gzipped([UInt8](Data(contentsOf: raw)))).write(to: url.appendingPathComponent("train-images.idx3-ubyte.gz"))
        try FileManager.default.removeItem(at: raw)
        let data = try IDXDirectory(directory: url.path)
        #expect(data.train.count == 4)
    }

    @Test func imagesAndLabelsOfDifferentCountsAreRejected() throws {
        let url = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeDirectory(url, trainImages: 5)
        #expect(throws: DatasetError.countMismatch(images: url.appendingPathComponent("train-images-idx3-ubyte").path,
                                                   imageCount: 5,
                                                   labels: url.appendingPathComponent("train-labels-idx1-ubyte").path,
                                                   labelCount: 4)) {
            try IDXDirectory(directory: url.path)
        }
    }

    @Test func testLabelOutsideTheTrainingClassesIsRejected() throws {
        let url = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeDirectory(url, testLabels: [2, 7])
        #expect(throws: DatasetError.labelOutOfRange(file: url.appendingPathComponent("t10k-labels-idx1-ubyte").path,
                                                     index: 1, label: 7, classCount: 3)) {
            try IDXDirectory(directory: url.path)
        }
    }

    @Test func missingLabelsFileNamesTheCandidates() throws {
        let url = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeDirectory(url)
        try FileManager.default.removeItem(at: url.appendingPathComponent("t10k-labels-idx1-ubyte"))
        #expect(throws: DatasetError.missingFile(directory: url.path,
                                                 candidates: IDXDirectory.candidates("t10k", "labels", rank: 1))) {
            try IDXDirectory(directory: url.path)
        }
    }

    @Test func testSetAloneNeedsNoTrainingFiles() throws {
        let url = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.writeDirectory(url)
        try FileManager.default.removeItem(at: url.appendingPathComponent("train-images-idx3-ubyte"))
        let test = try IDXDirectory.testSet(directory: url.path, classCount: 3)
        #expect(test.count == 2 && test.classCount == 3)
        #expect(throws: DatasetError.self) { try IDXDirectory.testSet(directory: url.path, classCount: 2) }
    }

    @Test func batchesScalePixelsToUnitRange() throws {
        let data = try Dataset(images: [0, 255, 51, 102], labels: [1, 0], rows: 1, columns: 2, classCount: 2)
        let (inputs, targets) = try data.batch([1, 0])
        #expect(inputs.shape == [2, 1, 2])
        #expect(inputs.scalars == [0.2, 0.4, 0, 1])
        #expect(targets == .classes([0, 1]))
    }

    @Test func fashionMNISTHasTheMNISTShapes() throws {
        let data = try IDXDirectory(directory: fashionMNIST)
        #expect(data.train.count == 60_000 && data.test.count == 10_000)
        #expect(data.train.sampleShape == [28, 28] && data.train.classCount == 10)
    }
}
