import Foundation
import Testing
@testable import NeuralNetworks

/// `nn train`, `evaluate` and `predict` on NumPy arrays, CSV tables and folders of PNGs: one command each.
struct DataCommandTests {
    static let data = Fixtures.directory.appendingPathComponent("data")

    /// A learnable 3-class table (the class is the largest of three features) as CSV and as .npy files.
    static func tables() throws -> URL {
        let directory = try IDXBytes.temporaryDirectory()
        var generator = RandomGenerator(seed: 5)
        var csv = "a,b,c,kind\n"
        var x: [Float] = [], y: [Int] = []
        for _ in 0..<300 {
            let row = (0..<3).map { _ in Float(generator.normal()) }
            let label = row.indices.max { row[$0] < row[$1] }!
            csv += row.map { "\($0)" }.joined(separator: ",") + "," + ["low", "mid", "high"][label] + "\n"
            x += row
            y.append(label)
        }
        try csv.write(to: directory.appendingPathComponent("t.csv"), atomically: true, encoding: .utf8)
        let xHeader = NumPyArrayTests.header("{'descr': '<f4', 'fortran_order': False, 'shape': (300, 3), }")
        try Data(xHeader + x.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            .write(to: directory.appendingPathComponent("x.npy"))
        let yHeader = NumPyArrayTests.header("{'descr': '<i8', 'fortran_order': False, 'shape': (300,), }")
        try Data(yHeader + y.flatMap { withUnsafeBytes(of: Int64($0).littleEndian, Array.init) })
            .write(to: directory.appendingPathComponent("y.npy"))
        return directory
    }

    static let model = ["--model", "dense(16, relu) dense(classes, softmax)", "--optimizer", "adam", "--learning-rate", "0.05",
                        "--epochs", "8", "--batch-size", "16"]

    @Test func aCSVTableTrainsEvaluatesAndPredictsClassNames() throws {
        let directory = try Self.tables()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = directory.appendingPathComponent("t.csv").path, saved = directory.appendingPathComponent("m.nn").path
        let train = try CLI.run(["train", "--data", table, "--target", "kind", "--validation-split", "0.2",
                                 "--normalize", "standardize", "--save", saved] + Self.model)
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("240 training and 60 validation (0.2 held out) samples of 3, 3 classes"))
        let accuracy = try #require(train.stdout.split(separator: "\n").last { $0.hasPrefix("loss:") }?
            .split(separator: "\t")[1].split(separator: " ")[3])
        #expect(Float(accuracy)! > 0.85, "\(train.stdout)")
        let evaluate = try CLI.run(["evaluate", "--model", saved, "--data", table, "--target", "kind"])
        #expect(evaluate.status == 0 && evaluate.stdout.contains("samples: 300 (all rows)"), "\(evaluate.stderr)")
        #expect(evaluate.stdout.contains("classes: 0 high, 1 low, 2 mid"))
        let predict = try CLI.run(["predict", "--model", saved, "--input", table, "--target", "kind", "--top", "1"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let lines = predict.stdout.split(separator: "\n")
        #expect(lines.count == 300 && lines.allSatisfy { ["high", "low", "mid"].contains($0.split(separator: ":")[0]) })
    }

    /// A model trained on a table keeps its feature columns' names, and reads a table to predict
    /// or evaluate by them: columns in another order give the same answers, the target column may
    /// stay, and a missing column is named (they were read by position, silently wrong). A resumed
    /// table run takes its own --target again.
    @Test func aTablesColumnsAreReadByName() throws {
        let directory = try Self.tables()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let train = try CLI.run(["train", "--data", path("t.csv"), "--target", "kind", "--save", path("m.nn"),
                                 "--checkpoint", path("run")] + Self.model.map { $0 == "8" ? "1" : $0 })
        #expect(train.status == 0, "\(train.stderr)")
        let rows = try String(contentsOfFile: path("t.csv"), encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",") }
        func table(_ columns: [Int]) -> String { rows.map { row in columns.map { String(row[$0]) }.joined(separator: ",") }.joined(separator: "\n") }
        try table([3, 2, 0, 1]).write(toFile: path("reordered.csv"), atomically: true, encoding: .utf8)
        try (["a,b,z"] + table([0, 1, 2]).split(separator: "\n").dropFirst()).joined(separator: "\n")
            .write(toFile: path("renamed.csv"), atomically: true, encoding: .utf8)
        func predict(_ file: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
            try CLI.run(["predict", "--model", path("m.nn"), "--input", path(file)] + extra)
        }
        let reference = try predict("t.csv", ["--target", "kind"])
        #expect(reference.status == 0 && reference.stdout.split(separator: "\n").count == 300, "\(reference.stderr)")
        #expect(try predict("t.csv").stdout == reference.stdout)
        #expect(try predict("reordered.csv").stdout == reference.stdout)
        let renamed = try predict("renamed.csv")
        #expect(renamed.status != 0 && renamed.stderr.contains("no column named 'c': the model was trained on columns a, b, c"))
        func evaluate(_ file: String) throws -> String {
            try CLI.run(["evaluate", "--model", path("m.nn"), "--data", path(file), "--target", "kind"]).stdout
        }
        #expect(try evaluate("reordered.csv") == evaluate("t.csv"))
        let resumed = try CLI.run(["train", "--resume", path("run"), "--epochs", "2", "--target", "kind"])
        #expect(resumed.status == 0 && resumed.stdout.contains("step 2"), "\(resumed.stderr)")
    }

    /// What cannot train is said before training, with the reason: data of one class, whole-number
    /// labels stored as floats (read as values, under a softmax of one output: loss 0, nothing
    /// learned), a flag the data's format does not read, and an empty class folder.
    @Test func dataThatCannotTrainIsRefusedWithTheReason() throws {
        let directory = try Self.tables()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let spec = ["--model", "dense(4, relu) dense(classes, softmax)", "--epochs", "1"]
        try "a,b,kind\n1,2,x\n3,4,x\n".write(toFile: path("one.csv"), atomically: true, encoding: .utf8)
        let one = try CLI.run(["train", "--data", path("one.csv"), "--target", "kind"] + spec)
        #expect(one.status == 1 && one.stderr.contains("every sample of the data is of one class (x)"), "\(one.stderr)")
        try NumPyWriter.write((0..<300).map { Float($0 % 3) }, shape: [300], to: path("y_float.npy"))
        let floats = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y_float.npy")] + spec)
        #expect(floats.status == 1 && floats.stderr.contains("--targets classes"), "\(floats.stderr)")
        let asClasses = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y_float.npy"), "--targets", "classes"] + spec)
        #expect(asClasses.status == 0 && asClasses.stdout.contains("3 classes"), "\(asClasses.stderr)")
        let size = try CLI.run(["train", "--data", path("t.csv"), "--target", "kind", "--image-size", "4x4"] + spec)
        #expect(size.status == 1 && size.stderr.contains("an image size (nn: --image-size) goes with a folder of images, not with a .csv table"))
        let png = Fixtures.directory.appendingPathComponent("grey_4x3.png")
        for folder in ["a", "b", "c"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent("images/\(folder)"), withIntermediateDirectories: true)
            if folder != "b" { try FileManager.default.copyItem(at: png, to: directory.appendingPathComponent("images/\(folder)/1.png")) }
        }
        let empty = try CLI.run(["train", "--data", path("images")] + spec)
        #expect(empty.status == 1 && empty.stderr.contains("images/b: a class folder without .png images"), "\(empty.stderr)")
    }

    @Test func numPyArraysTrainFromOneCommandAndResumeWithTheirSettings() throws {
        let directory = try Self.tables()
        defer { try? FileManager.default.removeItem(at: directory) }
        let x = directory.appendingPathComponent("x.npy").path, y = directory.appendingPathComponent("y.npy").path
        let runs = directory.appendingPathComponent("run").path
        let first = try CLI.run(["train", "--data", x, "--labels", y, "--validation-split", "0.25", "--checkpoint", runs]
                                + Self.model.map { $0 == "8" ? "2" : $0 })
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("(NumPy arrays): 225 training and 75 validation"))
        let resumed = try CLI.run(["train", "--resume", runs, "--epochs", "3"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("225 training and 75 validation") && resumed.stdout.contains("step 3"))
        let differs = try CLI.run(["train", "--resume", runs, "--epochs", "4", "--validation-split", "0.5"])
        #expect(differs.status != 0 && differs.stderr.contains("--validation-split 0.5 differs from the run's own 0.25"))
        let predict = try CLI.run(["predict", "--model", runs + "/last.safetensors", "--input", x])
        #expect(predict.status == 0 && predict.stdout.split(separator: "\n").count == 300, "\(predict.stderr)")
    }

    @Test func aNumPyArchiveWithTestArraysAndAPNGFolderTrain() throws {
        let archive = try CLI.run(["train", "--data", Self.data.appendingPathComponent("arrays_compressed.npz").path,
                                   "--model", "dense(classes, softmax)", "--epochs", "1"])
        #expect(archive.status == 0 && archive.stdout.contains("(NumPy archive): 6 training and 2 test samples of 4, 3 classes"),
                "\(archive.stderr)")
        let root = try ImageFolderTests.folder([("train", "cat", 3), ("train", "dog", 3), ("test", "cat", 1)])
        defer { try? FileManager.default.removeItem(at: root) }
        let images = try CLI.run(["train", "--data", root.path, "--model", "flatten dense(classes, softmax)", "--epochs", "1",
                                  "--image-size", "6x8"])
        #expect(images.status == 0 && images.stdout.contains("(image folder): 6 training and 1 test samples of 6×8, 2 classes"),
                "\(images.stderr)")
    }

    @Test func aColourModelPredictsAFolderOfClassFoldersByName() throws {
        let root = try ImageFolderTests.folder([("red", "red", 2), ("red", "blue", 2)], rgb: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let saved = root.appendingPathComponent("colour.nn").path
        let train = try CLI.run(["train", "--data", root.appendingPathComponent("red").path, "--model",
                                 "flatten dense(classes, softmax)", "--epochs", "1", "--save", saved])
        #expect(train.status == 0 && train.stdout.contains("samples of 3×4×3, 2 classes"), "\(train.stderr)")
        let predict = try CLI.run(["predict", "--model", saved, "--input", root.appendingPathComponent("red").path, "--top", "1"])
        #expect(predict.status == 0, "\(predict.stderr)")
        let lines = predict.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines[0].hasPrefix("blue/0.png,") && lines.allSatisfy { $0.contains("blue:") || $0.contains("red:") })
    }

    /// Colour PNGs reach a convolution as [H, W, 3] images, in training and in nn predict.
    @Test func aConvolutionalModelTrainsOnAndPredictsColourPNGs() throws {
        let root = try ImageFolderTests.folder([("red", "red", 2), ("red", "blue", 2)], rgb: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let saved = root.appendingPathComponent("cnn.nn").path
        let train = try CLI.run(["train", "--data", root.appendingPathComponent("red").path, "--model",
                                 "conv(4, 2x2, relu, padding=same) maxpool(2x2, padding=same) flatten dense(classes, softmax)",
                                 "--epochs", "1", "--save", saved])
        #expect(train.status == 0 && train.stdout.contains("samples of 3×4×3, 2 classes"), "\(train.stderr)")
        #expect(train.stdout.contains("(None, 3, 4, 4)"), "the convolution sees three channels")
        let predict = try CLI.run(["predict", "--model", saved, "--input", root.appendingPathComponent("red").path, "--top", "1"])
        #expect(predict.status == 0, "\(predict.stderr)")
        #expect(predict.stdout.split(separator: "\n").count == 4)
    }

    @Test func valueTargetsTrainARegressionWithoutAccuracy() throws {
        let x = Self.data.appendingPathComponent("x_float32.npy").path, y = Self.data.appendingPathComponent("x_float64.npy").path
        let result = try CLI.run(["train", "--data", x, "--labels", y, "--loss", "mse", "--epochs", "2",
                                  "--model", "flatten dense(4) reshape([2, 2])"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("targets of 2×2 value(s)"))
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("loss:") }
        #expect(lines.count == 2 && lines.allSatisfy { !$0.contains("accuracy") })
        let scaled = try CLI.run(["train", "--data", x, "--labels", y, "--loss", "mse", "--epochs", "1", "--normalize", "scale",
                                  "--model", "flatten dense(4) reshape([2, 2])"])
        #expect(scaled.status == 0 && scaled.stdout.contains("rescaling (Rescaling)"), "\(scaled.stderr)")
    }

    @Test func dataFlagErrorsSayWhatIsMissing() throws {
        let npy = try CLI.run(["train", "--data", Self.data.appendingPathComponent("x_float32.npy").path])
        #expect(npy.status != 0 && npy.stderr.contains("--labels y.npy"))
        let misplaced = try CLI.run(["train", "--target", "kind"])
        #expect(misplaced.status != 0 && misplaced.stderr.contains("a target column (nn: --target) goes with a .csv table"))
        let evaluated = try CLI.run(["evaluate", "--model", Fixtures.directory.appendingPathComponent("ours_model.safetensors").path,
                                     "--target", "kind"])
        #expect(evaluated.status != 0 && evaluated.stderr.contains("a target column (nn: --target) goes with a .csv table"))
        let scaleBytes = try CLI.run(["train", "--normalize", "scale", "--epochs", "1"])
        #expect(scaleBytes.status != 0 && scaleBytes.stderr.contains("holds bytes, which are read as pixels in [0, 1] already"))
        let size = try CLI.run(["train", "--image-size", "28"])
        #expect(size.status != 0 && size.stderr.contains("--image-size takes HEIGHTxWIDTH"))
    }

    /// Padded sequences whose class is the sign of their real steps' values; the padding holds
    /// large values of either sign, which only --lengths lets the model ignore.
    static func paddedSequences() throws -> URL {
        let directory = try IDXBytes.temporaryDirectory()
        var generator = RandomGenerator(seed: 6)
        var x: [Float] = [], y: [Int] = [], lengths: [Int] = []
        for _ in 0..<400 {
            let (length, label) = (1 + Int(generator.next() % 8), Int(generator.next() % 2))
            for t in 0..<8 {
                x.append(t < length ? Float(generator.normal() * 0.3) + (label == 1 ? 1 : -1) : (generator.next() % 2 == 0 ? 20 : -20))
            }
            (y, lengths) = (y + [label], lengths + [length])
        }
        try NumPyWriter.write(x, shape: [400, 8, 1], to: directory.appendingPathComponent("x.npy").path)
        try NumPyWriter.write(y, shape: [400], to: directory.appendingPathComponent("y.npy").path)
        try NumPyWriter.write(lengths, shape: [400], to: directory.appendingPathComponent("lengths.npy").path)
        try NumPyWriter.write(lengths.map { $0 + 1 }, shape: [400], to: directory.appendingPathComponent("long.npy").path)
        return directory
    }

    @Test func sequenceLengthsTrainEvaluateAndPredictPaddedSequences() throws {
        let directory = try Self.paddedSequences()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let saved = path("m.nn")
        let train = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y.npy"), "--lengths", path("lengths.npy"),
                                 "--validation-split", "0.25", "--model", "gru(8) dense(classes, softmax)", "--optimizer", "adam",
                                 "--learning-rate", "0.02", "--epochs", "4", "--batch-size", "16", "--save", saved])
        #expect(train.status == 0, "\(train.stderr)")
        let accuracy = try #require(train.stdout.split(separator: "\n").last { $0.hasPrefix("loss:") }?
            .split(separator: "\t")[1].split(separator: " ")[3])
        #expect(Float(accuracy)! > 0.9, "\(train.stdout)")
        func evaluate(_ extra: [String]) throws -> String {
            let result = try CLI.run(["evaluate", "--model", saved, "--data", path("x.npy"), "--labels", path("y.npy")] + extra)
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
        let measured = try evaluate(["--lengths", path("lengths.npy")]), unmeasured = try evaluate([])
        #expect(measured != unmeasured, "the lengths change what the model reads")
        let predict = try CLI.run(["predict", "--model", saved, "--input", path("x.npy"), "--lengths", path("lengths.npy")])
        #expect(predict.status == 0 && predict.stdout.split(separator: "\n").count == 400, "\(predict.stderr)")

        let tooLong = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y.npy"), "--lengths", path("long.npy"),
                                   "--model", "gru(8) dense(classes, softmax)", "--epochs", "1"])
        #expect(tooLong.status != 0 && tooLong.stderr.contains("long.npy: sequence length 9 at index"), "\(tooLong.stderr)")
        let lines = try CLI.run(["train", "--lengths", path("lengths.npy"), "--lines", "10,10"])
        #expect(lines.status != 0 && lines.stderr.contains("--lengths and --lines do not go together"))
        // A convolution before the recurrent layer would read padding: refused, where it crashed.
        let mixed = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y.npy"), "--lengths", path("lengths.npy"),
                                 "--model", "conv1d(4, 3) gru(8) dense(classes, softmax)", "--epochs", "1"])
        #expect(mixed.status == 1 && mixed.stderr.contains("--lengths: padded sequences (sequence lengths) cannot go through conv1d"),
                "\(mixed.stderr)")
    }

    /// A run's --labels and --lengths files may be copies at other paths when resuming (another
    /// machine's, a moved folder), as --data may: what they hold must be the run's own.
    @Test func aResumedRunReadsCopiesOfItsFilesElsewhere() throws {
        let directory = try Self.paddedSequences()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let first = try CLI.run(["train", "--data", path("x.npy"), "--labels", path("y.npy"), "--lengths", path("lengths.npy"),
                                 "--model", "gru(4) dense(classes, softmax)", "--epochs", "1", "--checkpoint", path("run")])
        #expect(first.status == 0, "\(first.stderr)")
        try FileManager.default.createDirectory(atPath: path("copy"), withIntermediateDirectories: true)
        for name in ["x.npy", "y.npy", "lengths.npy"] { try FileManager.default.copyItem(atPath: path(name), toPath: path("copy/" + name)) }
        let copies = try CLI.run(["train", "--resume", path("run"), "--epochs", "2", "--data", path("copy/x.npy"),
                                  "--labels", path("copy/y.npy"), "--lengths", path("copy/lengths.npy")])
        #expect(copies.status == 0 && copies.stdout.contains("step 2"), "\(copies.stderr)")
        try NumPyWriter.write(Array(repeating: 8, count: 400), shape: [400], to: path("full.npy"))
        let other = try CLI.run(["train", "--resume", path("run"), "--epochs", "3", "--lengths", path("full.npy")])
        #expect(other.status == 1 && other.stderr.contains("--lengths \(path("full.npy")) does not hold the run's own samples"),
                "\(other.stderr)")
    }

    /// The arrays `nn lines` writes train with `--loss ctc` as the lines themselves do (y's rows
    /// are label sequences padded with -1): the same loss; and a model evaluates on them.
    @Test func arraysOfLinesTrainAsTheLinesDo() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let written = try CLI.run(["lines", "--lines", "48,16", "--output", directory.path])
        #expect(written.status == 0, "\(written.stderr)")
        let model = ["--model", "bi(gru(8, seq)) timedistributed(dense(classes, softmax))", "--loss", "ctc", "--epochs", "1",
                     "--batch-size", "16"]
        let lines = try CLI.run(["train", "--lines", "48,16"] + model)
        let arrays = try CLI.run(["train", "--data", path("x_train.npy"), "--labels", path("y_train.npy"),
                                  "--checkpoint", path("run")] + model)
        #expect(lines.status == 0 && arrays.status == 0, "\(lines.stderr)\(arrays.stderr)")
        #expect(arrays.stdout.contains("label sequences of"), "\(arrays.stdout)")
        func trainingLoss(_ stdout: String) -> Substring? { TrainCommandTests.epochLines(stdout).first?.split(separator: " ")[1] }
        #expect(trainingLoss(lines.stdout) != nil && trainingLoss(lines.stdout) == trainingLoss(arrays.stdout))
        // The run keeps how it read its targets: naming it on --resume is the run's own setting.
        let resumed = try CLI.run(["train", "--resume", path("run"), "--epochs", "2", "--targets", "sequences"])
        #expect(resumed.status == 0 && resumed.stdout.contains("step 2"), "\(resumed.stderr)")
        for flag in [["--loss", "ctc"], ["--targets", "sequences"]] {
            let evaluate = try CLI.run(["evaluate", "--model", path("run/last.safetensors"), "--data", path("x_test.npy"),
                                        "--labels", path("y_test.npy")] + flag)
            #expect(evaluate.status == 0 && evaluate.stdout.contains("label error rate"), "\(evaluate.stderr)")
        }
    }

    /// A model with an output per step (CTC) transcribes the samples of an array as it does images
    /// of lines, one line each (it printed the flattened outputs); an empty array is an error.
    @Test func aPerStepModelTranscribesArrays() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let model = try ModelSpec.model("timedistributed(dense(4, softmax))")
        try model.build(inputShape: [6, 3], seed: 2)
        try model.save(to: path("m.nn"))
        var generator = RandomGenerator(seed: 9)
        let x = (0..<(5 * 6 * 3)).map { _ in Float(generator.normal() * 3) }
        try NumPyWriter.write(x, shape: [5, 6, 3], to: path("x.npy"))
        let expected = CTCDecoder.greedy(model.predict(Tensor(shape: [5, 6, 3], scalars: x)), blank: 3)
            .map { $0.map(String.init).joined(separator: " ") }
        let result = try CLI.run(["predict", "--model", path("m.nn"), "--input", path("x.npy")])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) == expected)
        #expect(expected.contains { !$0.isEmpty })
        try NumPyWriter.write([Float](), shape: [0, 6, 3], to: path("empty.npy"))
        let empty = try CLI.run(["predict", "--model", path("m.nn"), "--input", path("empty.npy")])
        #expect(empty.status == 1 && empty.stderr.contains("holds no samples to predict"))
    }

    @Test func aConvolutionalModelPredictsAPicture() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = directory.appendingPathComponent("cnn.safetensors").path
        let train = try CLI.run(["train", "--preset", "cnn", "--epochs", "1", "--train-limit", "256", "--test-limit", "64",
                                 "--save", saved])
        #expect(train.status == 0, "\(train.stderr)")
        let predict = try CLI.run(["predict", "--model", saved, "--input", Fixtures.directory.appendingPathComponent("grey_4x3.png").path,
                                   "--top", "2"])
        #expect(predict.status == 0 && predict.stdout.split(separator: "\n").count == 1, "\(predict.stderr)")
        #expect(predict.stdout.split(separator: ",").count == 2)
    }
}
