import Foundation
import Testing
@testable import NeuralNetworks

/// Opening data by path, the validation split, and streaming from disk.
struct DataFilesTests {
    static let data = Fixtures.directory.appendingPathComponent("data")

    @Test func eachFormatIsRecognisedByItsPath() throws {
        let archive = try DataFiles.open(Self.data.appendingPathComponent("arrays.npz").path)
        #expect(archive.format == "NumPy archive" && archive.train.count == 6 && archive.test?.count == 2)
        #expect(archive.train.labels == [0, 1, 2, 0, 1, 2] && archive.test?.labels == [2, 0])
        let table = try DataFiles.open(Self.data.appendingPathComponent("table.csv").path,
                                       options: DataFiles.Options(target: "species"))
        #expect(table.format == "CSV table" && table.test == nil && table.train.classCount == 3)
        let idx = try DataFiles.open(fashionMNIST)
        #expect(idx.format == "IDX" && idx.test?.count == 10_000)
    }

    @Test func missingCompanionsAndUnknownFilesAreClearErrors() throws {
        let npy = Self.data.appendingPathComponent("x_float32.npy").path
        #expect { try DataFiles.open(npy) } throws: { "\($0)".contains("--labels y.npy") }
        #expect { try DataFiles.open(Self.data.appendingPathComponent("table.csv").path) } throws: { "\($0)".contains("--target") }
        #expect { try DataFiles.open(Self.data.appendingPathComponent("expected.json").path) } throws: {
            "\($0)".contains("not a data set this reads")
        }
        #expect { try DataFiles.open("/no/such/data") } throws: { "\($0)" == "/no/such/data: no such file or directory" }
    }

    /// An option that the data's format does not read is an error naming both, not dropped.
    @Test func optionsForAnotherFormatAreErrors() throws {
        var sized = DataFiles.Options(target: "species")
        sized.imageSize = (4, 4)
        #expect { try DataFiles.open(Self.data.appendingPathComponent("table.csv").path, options: sized) } throws: {
            "\($0)".hasSuffix("an image size (nn: --image-size) goes with a folder of images, not with a .csv table")
        }
        var named = DataFiles.Options()
        named.arrayNames = ("a", "b", "c", "d")
        #expect { try DataFiles.open(Self.data.appendingPathComponent("table.csv").path, options: named) } throws: {
            "\($0)".contains("array names (nn: --arrays) goes with a .npz archive")
        }
        #expect { try DataFiles.open(Self.data.appendingPathComponent("arrays.npz").path, options: .init(labels: "y.npy")) } throws: {
            "\($0)".contains("a targets' .npy (nn: --labels) goes with a .npy inputs file, not with a .npz archive")
        }
    }

    /// Label sequences from a NumPy array: each row a sample's classes, padded at its end with -1
    /// (as `nn lines` writes them); a class after the padding or another negative value is named.
    @Test func labelSequencesAreRowsPaddedWithMinusOne() throws {
        let folder = try TrainCommandTests.folder()
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        try NumPyWriter.write([Float](repeating: 0.5, count: 3 * 4 * 2), shape: [3, 4, 2], to: path("x.npy"))
        var options = DataFiles.Options(labels: path("y.npy"))
        options.targetKind = .sequences
        func read(_ y: [Int], shape: [Int]) throws -> Dataset {
            try NumPyWriter.write(y, shape: shape, to: path("y.npy"))
            return try DataFiles.open(path("x.npy"), options: options).train
        }
        let data = try read([3, 1, -1, -1, -1, -1, 0, 5, 2], shape: [3, 3])
        guard case .sequences(let sequences) = data.targets else { Issue.record("not read as sequences"); return }
        #expect(sequences == [[3, 1], [], [0, 5, 2]] && data.classCount == 6)
        #expect { try read([3, -1, 1, 0, 0, 0, 1, 1, 1], shape: [3, 3]) } throws: {
            "\($0)".contains("row 0 holds 1 at column 2 after its -1 padding")
        }
        #expect { try read([3, -2, -1, 0, 0, 0, 1, 1, 1], shape: [3, 3]) } throws: { "\($0)".contains("holds -2 at row 0, column 1") }
        #expect { try read([1, 2, 3], shape: [3]) } throws: { "\($0)".contains("label sequences are [samples, longest]") }
        #expect { try read([1 << 40, -1, -1, 0, 0, 0, 1, 1, 1], shape: [3, 3]) } throws: { "\($0)".contains("label 1099511627776") }
        #expect { try CSVTable.load(path: Self.data.appendingPathComponent("table.csv").path, target: "species", kind: .sequences) }
            throws: { "\($0)".contains("not the label sequences a sequence loss (ctc) trains") }
    }

    @Test func integerTargetsAreClassesAndFloatTargetsValues() throws {
        let x = Self.data.appendingPathComponent("x_float32.npy").path
        let labels = try DataFiles.open(x, options: DataFiles.Options(labels: Self.data.appendingPathComponent("x_int8.npy").path))
        guard case .values(let values) = labels.train.targets else { Issue.record("a [3, 2, 2] array is value targets"); return }
        #expect(values.sampleShape == [2, 2])
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let y = directory.appendingPathComponent("y.npy")
        try Data(NumPyArrayTests.header("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }")
                 + [0, 1, 1].flatMap { (v: UInt8) in [v, 0, 0, 0, 0, 0, 0, 0] }).write(to: y)
        let classes = try DataFiles.open(x, options: DataFiles.Options(labels: y.path))
        #expect(classes.train.labels == [0, 1, 1] && classes.train.classCount == 2)
    }

    @Test func aNonFiniteInputIsNamedByFileAndSampleWhenItsBatchIsDrawn() throws {
        var values = [Float](repeating: 1, count: 12)
        values[7] = .nan
        var inputs = FloatSamples(values: values, sampleShape: [4])
        inputs.file = "table.csv"
        let data = try Dataset(inputs: inputs, labels: [0, 1, 0])
        #expect(try data.batch([0, 2]).inputs.count == 8)
        #expect { try data.subset([2, 1]).batch([0, 1]) } throws: {
            "\($0)" == "table.csv: sample 1: input value 3 is nan; the data must hold finite numbers"
        }
    }

    @Test func aHugeLabelIsAnErrorNotAHugeModel() throws {
        let inputs = FloatSamples(values: [1, 2, 3], sampleShape: [1])
        #expect { try Dataset(inputs: inputs, labels: [0, 1_000_000_000_000, 1], labelsName: "y.npy") } throws: {
            "\($0)".hasPrefix("y.npy: label 1000000000000 at index 1 is outside the 65536 classes")
        }
        #expect { try Dataset.requireEveryClass([0, Int.max], file: "y.npy") } throws: { $0 is DatasetError }
    }

    @Test func theValidationSplitIsSeededDisjointAndComplete() throws {
        let data = try DataFiles.open(fashionMNIST).train.prefix(1000)
        let (train, validation) = try data.split(validationFraction: 0.2, seed: 3)
        #expect(train.count == 800 && validation.count == 200)
        let again = try data.split(validationFraction: 0.2, seed: 3)
        #expect(again.validation.labels == validation.labels)
        let trainRows = (train.inputs as! SampleSubset).indices, heldRows = (validation.inputs as! SampleSubset).indices
        #expect(Set(trainRows).isDisjoint(with: heldRows) && Set(trainRows + heldRows).count == 1000)
        #expect(heldRows != Array(800..<1000))  // drawn, not the last fifth
        #expect(throws: DatasetError.self) { try data.split(validationFraction: 0.0001, seed: 3) }
    }

    /// A 4 GiB `.npy` (sparse: its data is a hole, so it costs no disk) opened and trained on over
    /// samples spread through the whole file: the process's own memory stays far below the file's
    /// size, because samples are read from the mapping as batches draw them.
    @Test func aDataSetLargerThanItsReadsStreamsFromTheMapping() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rows = 1 << 20, features = 1024
        let x = directory.appendingPathComponent("x.npy")
        let header = NumPyArrayTests.header("{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(features)), }")
        try Data(header).write(to: x)
        let handle = try FileHandle(forWritingTo: x)
        try handle.truncate(atOffset: UInt64(header.count + rows * features * 4))
        try handle.close()
        let inputs = try NumPyArray(path: x.path)
        let labels = (0..<rows).map { $0 % 2 }
        let data = try Dataset(inputs: inputs, labels: labels).subset(Array(stride(from: 0, to: rows, by: 128)))
        let model = Sequential { Dense(units: 2, activation: .softmax) }
        let before = Self.anonymousBytes()
        var peak = before
        try model.fit(data, optimizer: SGD(learningRate: 0.1), epochs: 1, batchSize: 256, seed: 1,
                      onBatch: { _ in peak = max(peak, Self.anonymousBytes()) })
        #expect(data.count == 8192)
        #expect(peak - before < 256 << 20, "anonymous memory grew by \(peak - before) bytes over a 4 GiB file")
    }

    /// The process's anonymous resident memory (RssAnon: its own, not the page cache a mapping uses).
    static func anonymousBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1024
    }
}
