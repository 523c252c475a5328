import Foundation
import Testing
@testable import NeuralNetworks
@testable import nn

/// What a hostile but realistic user found (the hostile-user findings issue), one test per
/// finding; the files are made by scripts/make_hostile_fixtures.py and committed.
struct HostileInputTests {
    static func fixture(_ name: String) -> String { Fixtures.directory.appendingPathComponent("hostile/\(name)").path }

    static func folder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func trainedModel() throws -> String {
        let path = try folder() + "/model.safetensors"
        let model = Sequential { Flatten(); Dense(units: 10, activation: .softmax) }
        try model.build(inputShape: [28, 28], seed: 0)
        try model.save(to: path)
        return path
    }

    // 1. A folder as input is predicted file by file; anything unreadable is one line.
    @Test func predictTakesAFolderOfImagesOneNamedLineEach() throws {
        let model = try Self.trainedModel(), images = try Self.folder()
        for name in ["b.png", "a.png"] {
            try FileManager.default.copyItem(atPath: Self.fixture("picture_8bit_grey.png"), toPath: images + "/" + name)
        }
        try Data("notes".utf8).write(to: URL(fileURLWithPath: images + "/README.txt"))
        let result = try CLI.run(["predict", "--model", model, "--input", images])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2 && lines[0].hasPrefix("a.png,") && lines[1].hasPrefix("b.png,"))
        for input in [try Self.folder(), "/dev/null", Self.fixture("text_named.png")] {
            let bad = try CLI.run(["predict", "--model", model, "--input", input])
            #expect(bad.status == 1 && bad.stderr.split(separator: "\n").count == 1, "\(input): \(bad.stderr)")
        }
        #expect(try CLI.run(["predict", "--model", model, "--input", "/dev/null"]).stderr.contains("is a device"))
        #expect(try CLI.run(["predict", "--model", model, "--input", Self.fixture("text_named.png")]).stderr.contains("not a PNG"))
    }

    // 2. A model too large for the machine is refused before it is allocated.
    @Test func hugeModelIsRefusedWithTheEstimateBeforeAllocating() throws {
        let result = try CLI.run(["train", "--units", "16384", "--epochs", "1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("needs about") && result.stderr.contains("available"))
        #expect(result.stderr.split(separator: "\n").count == 1 && !result.stdout.contains("loss: "))
    }

    @Test func memoryEstimateCountsParametersSlotsActivationsAndWorkspace() throws {
        let layers = try ModelSpec.layers("flatten dense(100, relu) dense(10, softmax)")
        let bytes = try MemoryEstimate.trainingBytes(layers: layers, inputShape: [28, 28], batchSize: 10, optimizerSlots: 1)
        let parameters = 784 * 100 + 100 + 100 * 10 + 10
        #expect(bytes == 4 * (3 * parameters + 2 * 10 * (784 + 100 + 10)))
    }

    // 6. The same picture gives the same values at any depth and with a gAMA chunk.
    @Test(arguments: ["picture_16bit_grey.png", "picture_16bit_rgb.png", "picture_16bit_rgba.png",
                      "picture_8bit_gamma_045.png", "picture_8bit_gamma_100.png"])
    func pngValuesAreReadAsStored(_ name: String) throws {
        let reference = try PNGImage.read(path: Self.fixture("picture_8bit_grey.png"))
        let image = try PNGImage.read(path: Self.fixture(name))
        #expect(image.width == 4 && image.height == 3)
        for (a, b) in zip(image.pixels, reference.pixels) { #expect(abs(a - b) < 1e-5, "\(name): \(a) vs \(b)") }
        #expect(reference.pixels[3] == 1 && abs(reference.pixels[1] - 60 / 255) < 1e-6)
    }

    // 7, 8. Every tensor of a file is used, every value finite, the data indexed exactly.
    @Test(arguments: [("torch_two_layer_lstm.safetensors", "lstm.bias_hh_l1"), ("unused_tensor.safetensors", "dense_1.kernel"),
                      ("nan_weight.safetensors", "dense.kernel holds nan"), ("overlapping.safetensors", "overlaps"),
                      ("fractional.safetensors", "whole numbers"), ("trailing.safetensors", "trailing bytes")])
    func brokenModelFilesAreRefusedNamingTheTensor(_ name: String, _ words: String) {
        #expect {
            try Sequential.load(from: Self.fixture(name))
        } throws: { error in
            "\(error)".contains(words) && "\(error)".contains(name)
        }
    }

    // 9. A stray label is not a silent 201-class model.
    @Test func strayLabelIsRefusedUnlessTheClassCountIsGiven() throws {
        let data = Self.fixture("stray_label")
        let refused = try CLI.run(["train", "--data", data, "--preset", "softmax", "--epochs", "1"])
        #expect(refused.status == 1 && refused.stderr.contains("label 200 (first at index 2)"))
        #expect(refused.stderr.contains("--classes 201"))
        let given = try CLI.run(["train", "--data", data, "--preset", "softmax", "--epochs", "1", "--classes", "201"])
        #expect(given.status == 0, "\(given.stderr)")
        #expect(given.stdout.contains("201 classes"))
        let tooFew = try CLI.run(["train", "--data", data, "--preset", "softmax", "--epochs", "1", "--classes", "10"])
        #expect(tooFew.status == 1 && tooFew.stderr.contains("label 200 at index 2"))
    }

    // 12. The progress bar fits the terminal, and shows a rate only once one is known.
    @Test func progressBarFitsNarrowTerminalsAndWaitsForARate() {
        let first = BatchProgress(epoch: 1, samplesDone: 128, samplesTotal: 60000, loss: 2.3, accuracy: 0.1, seconds: 0.5,
                                  firstBatchSeconds: 0.5, firstBatchSamples: 128)
        #expect(!ProgressBar.line(first, epochs: 30, columns: 120).contains("samples/s"))
        let later = BatchProgress(epoch: 12, samplesDone: 30000, samplesTotal: 60000, loss: 0.3, accuracy: 0.9, seconds: 6,
                                  firstBatchSeconds: 0.5, firstBatchSamples: 128)
        for columns in [40, 60, 80, 100, 200] {
            let line = ProgressBar.line(later, epochs: 30, columns: columns)
            #expect(line.count < columns, "\(columns) columns: \(line)")
        }
        #expect(ProgressBar.line(later, epochs: 30, columns: 200).contains("ETA"))
    }

    // 13. A write that fails names the file the user asked for and the reason, in one line.
    @Test func writeFailuresNameTheFileAndTheReason() throws {
        let folder = try Self.folder()
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/plain"))
        #expect(throws: WriteError(file: folder + "/plain/model.safetensors", code: ENOTDIR)) {
            try AtomicFile.write(Data("y".utf8), to: folder + "/plain/model.safetensors")
        }
        #expect(throws: WriteError(file: folder, code: EISDIR)) { try AtomicFile.write(Data("y".utf8), to: folder) }
        #expect("\(WriteError(file: "m.safetensors", code: ENOSPC))" == "cannot write m.safetensors: no space left on the device")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["plain"])
    }

    // 14. Rough edges of the command line.
    @Test func roughEdgesOfTheCommandLineAreExplained() throws {
        let help = try CLI.run(["help", "bogus"])
        #expect(help.status != 0 && help.stderr.contains("no subcommand bogus"))
        let negative = try CLI.run(["train", "--batch-size", "-1"])
        #expect(negative.status != 0 && negative.stderr.contains("--batch-size must be in 1...65536, got -1"))
        let pdf = try CLI.run(["plot", "history.csv", "--output", "c.pdf"])
        #expect(pdf.status != 0 && pdf.stderr.contains(".svg or .png"))
        #expect(throws: DatasetError.emptyImages(file: Self.fixture("zero_by_zero-images-idx3-ubyte"), rows: 0, columns: 0)) {
            try Dataset(imagesFile: Self.fixture("zero_by_zero-images-idx3-ubyte"),
                        labelsFile: Self.fixture("zero_by_zero-labels-idx1-ubyte"))
        }
        let folderAsModel = try CLI.run(["summary", "--model", try Self.folder()])
        #expect(folderAsModel.status == 1 && folderAsModel.stderr.contains("is a directory"))
    }
}
