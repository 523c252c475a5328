import Foundation
import NeuralNetworks
import Testing

/// Runs the `nn` binary built beside the tests.
enum CLI {
    static var binary: URL {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [products, products.deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("nn")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        // Fallback: the package's own build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let release = root.appendingPathComponent(".build/release/nn")
        return FileManager.default.isExecutableFile(atPath: release.path) ? release : root.appendingPathComponent(".build/debug/nn")
    }

    /// `nn arguments…`, with `environment` added to this process's, in `directory` (this process's when nil).
    static func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws
        -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        return try collect(process)
    }

    /// Runs `process` to its end; its status and what it wrote.
    static func collect(_ process: Process) throws -> (status: Int32, stdout: String, stderr: String) {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

struct CLITests {
    @Test func trainPrintsSummaryThenReferenceFormatLines() throws {
        let result = try CLI.run(["train", "--epochs", "2", "--units", "8", "--train-limit", "256", "--test-limit", "128"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Total params:"))
        let lines = result.stdout.split(separator: "\n").filter { $0.hasPrefix("loss: ") }
        #expect(lines.count == 2)
        let pattern = #/loss: \d+\.\d{4} / \d+\.\d{4}\taccuracy: \d\.\d{4} / \d\.\d{4}\tstep (\d+)  \d+\.\d{2} sec/#
        for (index, line) in lines.enumerated() {
            let match = try #require(try pattern.wholeMatch(in: String(line)))
            #expect(Int(match.1) == index + 1)
        }
        // Not a terminal: no progress bar on stderr.
        #expect(result.stderr.isEmpty)
    }

    /// A run over part of the data prints its table and leaves `Benchmarks/results.md` alone
    /// (the README's quick check replaced the committed figures); `--output` writes it.
    @Test func benchWritesOneTableWithTheCeilingRatioAndPrecisions() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try CLI.run(["bench", "--train-limit", "512", "--test-limit", "256", "--no-scaling",
                                  "--precision-epochs", "1"], directory: folder)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("Benchmarks").path))
        #expect(result.stderr.contains("Benchmarks/results.md left as it was"))
        let table = result.stdout
        for row in ["one epoch, measured: training 512 + test 256", "inference, 256 test images, batch 128",
                    "measured epoch ÷ that ceiling epoch", "wall time lost while one direction's core waited", "peak resident memory", "bf16 speed-up; accuracy change",
                    "float32: epoch times, fastest / median / slowest; last ÷ first",
                    "textbook: recurrent step: M=128 N=512 K=128 NN", #"layer: step, [x \| h \| 1] · [W; U; b]: M=128 N=512 K=157 NN"#,
                    "ceiling: the layer's shapes run by the kernels it uses",
                    "dense 784→512, x · W: M=128 N=512 K=784 NN",
                    #"layer, its kernels: step, [x \| h \| 1] · [W; U; b]: M=128 N=512 K=157 NN"#] {
            #expect(table.contains("| \(row)"), "no row \(row)")
        }
        #expect(!table.contains(/\b(nan|inf)\b/), "a figure is not a number")
    }

    /// `nn bench --products-only`: every product with OpenBLAS and the project's kernel, and the
    /// one that runs it, without training or writing anything.
    @Test func benchProductsOnlyNamesTheKernelOfEveryProduct() throws {
        let result = try CLI.run(["bench", "--products-only", "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| shape") }
        #expect(rows.count == 11)
        for row in rows {
            #expect(row.contains(/OpenBLAS \d+, (avx512|avx2|portable) \d+ .*; runs: (OpenBLAS|avx512|avx2|portable)(; bf16 \d+ \(--precision bf16\))? \|$/),
                    "\(row)")
        }
        #expect(result.stdout.contains("step, [x \\| h \\| 1] · [W; U; b]: M=128 N=512 K=157 NN"))
        // The LSTM's three products also on the bf16 kernel where the CPU has AVX512-BF16, the mlp's never.
        #expect(rows.filter { $0.contains("; bf16 ") }.count == (Precision.bfloat16Supported ? 3 : 0))
    }

    /// Without a GPU or driver, `--device cuda` is one error line, before any training.
    @Test(.enabled(if: CUDADevice.count() == 0, "a GPU is here"))
    func deviceCudaWithoutAGPUIsOneErrorLine() throws {
        let result = try CLI.run(["train", "--device", "cuda", "--epochs", "1", "--train-limit", "64", "--test-limit", "64"])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("nn: error: --device cuda: "), "\(result.stderr)")
        #expect(!result.stdout.contains("loss:"))
    }

    @Test func benchKeepsTheHandRunFiguresAfterItsMarker() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).md")
        defer { try? FileManager.default.removeItem(at: output) }
        let kept = "<!-- Kept by nn bench: figures of whole runs, measured by hand. -->\n## Long runs\n| rnn | 0.88 |\n"
        try ("# old tables\n\n" + kept).write(to: output, atomically: true, encoding: .utf8)
        let result = try CLI.run(["bench", "--train-limit", "256", "--test-limit", "128", "--no-scaling",
                                  "--precision-epochs", "0", "--output", output.path])
        #expect(result.status == 0, "\(result.stderr)")
        let table = try String(contentsOf: output, encoding: .utf8)
        #expect(table.hasSuffix(kept) && !table.contains("# old tables") && table.contains("one epoch, measured"))
    }

    @Test func badDataDirectoryGivesOneLineErrorAndFailure() throws {
        let result = try CLI.run(["train", "--data", "/nonexistent/data", "--epochs", "1"])
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(result.stderr.contains("/nonexistent/data"))
    }

    @Test func directoryWithoutLabelsNamesTheMissingFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        try Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]).write(to: url.appendingPathComponent("train-images-idx3-ubyte"))
        let result = try CLI.run(["train", "--data", url.path])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("train-labels-idx1-ubyte"))
    }

    @Test func nonsenseFlagsAreRejectedByName() throws {
        let nonsense = [("--epochs", "0"), ("--epochs", "-3"), ("--batch-size", "0"), ("--units", "0"),
                        ("--units", "100000000"), ("--learning-rate", "nan"), ("--learning-rate", "-1"),
                        ("--momentum", "1.5"), ("--decay", "inf"), ("--threads", "0"), ("--threads", "257"), ("--clip-norm", "0"),
                        ("--train-limit", "0"), ("--seed", "-1")]
        for (flag, value) in nonsense {
            let result = try CLI.run(["train", flag, value])
            #expect(result.status != 0)
            #expect(result.stderr.contains(flag), "\(flag) \(value): \(result.stderr)")
        }
        let url = try CLI.run(["download", "mnist", "--base-url", "ftp://example"])
        #expect(url.status != 0 && url.stderr.contains("--base-url"))
        let top = try CLI.run(["predict", "--model", "m", "--input", "x", "--top", "0"])
        #expect(top.status != 0 && top.stderr.contains("--top"))
    }
}

@Suite(.serialized)
struct CLIModelTests {
    static func trainedModel() throws -> (directory: URL, model: String) {
        let url = try IDXBytes.temporaryDirectory()
        let model = url.appendingPathComponent("model.safetensors").path
        let result = try CLI.run(["train", "--epochs", "1", "--units", "8", "--train-limit", "256", "--test-limit", "64",
                                  "--save", model, "--checkpoint", url.appendingPathComponent("run").path])
        #expect(result.status == 0, "\(result.stderr)")
        return (url, model)
    }

    @Test func savedModelIsSummarisedEvaluatedAndPredicted() throws {
        let (directory, model) = try Self.trainedModel()
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = try CLI.run(["summary", "--model", model])
        #expect(summary.status == 0 && summary.stdout.contains("Total params: 2,538"))
        let evaluation = try CLI.run(["evaluate", "--model", model, "--test-limit", "50"])
        #expect(evaluation.status == 0)
        #expect(evaluation.stdout.contains("accuracy:") && evaluation.stdout.contains("confusion matrix"))
        let images = "\(fashionMNIST)/t10k-images-idx3-ubyte.gz"
        let predictions = try CLI.run(["predict", "--model", model, "--input", images])
        let lines = predictions.stdout.split(separator: "\n")
        #expect(lines.count == 10_000)
        let fields = lines[0].split(separator: ",")
        #expect(fields.count == 11)
        let probabilities = fields.dropFirst().compactMap { Float($0) }
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
        let top = try CLI.run(["predict", "--model", model, "--input", images, "--top", "2"])
        #expect(top.stdout.split(separator: "\n")[0].split(separator: ",").count == 2)
    }

    @Test func predictReadsAPGMImage() throws {
        let (directory, model) = try Self.trainedModel()
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = directory.appendingPathComponent("shirt.pgm")
        try Data(Array("P5 14 14 255\n".utf8) + (0..<196).map { UInt8($0) }).write(to: image)
        let result = try CLI.run(["predict", "--model", model, "--input", image.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    @Test func predictReadsAPNGImage() throws {
        let (directory, model) = try Self.trainedModel()
        defer { try? FileManager.default.removeItem(at: directory) }
        let png = Fixtures.directory.appendingPathComponent("grey_4x3.png").path
        let result = try CLI.run(["predict", "--model", model, "--input", png, "--top", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 1)
    }

    @Test func checkpointDirectoryHoldsLastBestAndHistory() throws {
        let (directory, _) = try Self.trainedModel()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = directory.appendingPathComponent("run").path
        let files = try FileManager.default.contentsOfDirectory(atPath: run).sorted()
        #expect(files == ["best.safetensors", "history.csv", "history.json", "last.safetensors"])
        let resumed = try CLI.run(["train", "--resume", run, "--epochs", "2"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.split(separator: "\n").filter { $0.hasPrefix("loss: ") }.count == 2)
        #expect(try History.read(path: run + "/history.csv").count == 2)
    }

    @Test func exportWritesTheStateDictOfATorchSequentialAndItsPython() throws {
        let (directory, model) = try Self.trainedModel()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("exported.safetensors").path
        // The model's gates are hard sigmoid: refused unless forced, since PyTorch would run sigmoid.
        let refused = try CLI.run(["export", "--model", model, "--format", "torch", "--output", output])
        #expect(refused.status == 1 && refused.stderr.contains("--force"))
        #expect(!FileManager.default.fileExists(atPath: output))
        let shadowing = directory.appendingPathComponent("torch.safetensors").path
        let shadows = try CLI.run(["export", "--model", model, "--output", shadowing, "--force"])
        #expect(shadows.status == 1 && shadows.stderr.contains("shadows the torch package"))
        let result = try CLI.run(["export", "--model", model, "--format", "torch", "--output", output, "--force"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("warning"))
        let file = try Safetensors(path: output)
        #expect(file.tensors["0.weight_ih_l0_reverse"]?.shape == [32, 28])
        #expect(file.tensors["1.weight"]?.shape == [10, 16])
        let python = try String(contentsOfFile: directory.appendingPathComponent("exported.py").path, encoding: .utf8)
        #expect(python.contains("def make_model():") && python.contains("KerasLSTM(28, 8, bidirectional=True)"))

        let legacy = directory.appendingPathComponent("legacy.safetensors").path
        let named = try CLI.run(["export", "--model", model, "--output", legacy, "--names", "lstm-fc", "--force"])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(try Safetensors(path: legacy).tensors["lstm.weight_ih_l0_reverse"]?.shape == [32, 28])
        #expect(try Safetensors(path: legacy).tensors["fc.weight"]?.shape == [10, 16])
    }

    @Test func importMakesAModelFileFromAStateDictAndItsArchitecture() throws {
        let (directory, model) = try Self.trainedModel()
        defer { try? FileManager.default.removeItem(at: directory) }
        let torch = directory.appendingPathComponent("exported.safetensors").path
        #expect(try CLI.run(["export", "--model", model, "--output", torch, "--force"]).status == 0)
        // What PyTorch's safetensors.torch.save_file writes: the tensors, no architecture.
        var bare = try Safetensors(path: torch)
        bare.metadata = [:]
        let stateDict = directory.appendingPathComponent("state_dict.safetensors").path
        try bare.write(to: stateDict)
        let imported = directory.appendingPathComponent("imported.safetensors").path

        let missing = try CLI.run(["import", "--state-dict", stateDict, "--output", imported])
        #expect(missing.status == 1 && missing.stderr.contains("--architecture"), "\(missing.stderr)")
        let wrong = try CLI.run(["import", "--state-dict", stateDict, "--architecture", "bilstm(4) dense(10, softmax)",
                                 "--input-shape", "28,28", "--output", imported])
        #expect(wrong.status == 1 && wrong.stderr.contains("0.weight_ih_l0"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: imported))

        let result = try CLI.run(["import", "--state-dict", stateDict, "--architecture",
                                  "bilstm(8, recurrent_activation=hard_sigmoid) dense(10, softmax)",
                                  "--input-shape", "28,28", "--output", imported])
        #expect(result.status == 0, "\(result.stderr)")
        let original = try Sequential.load(from: model), reloaded = try Sequential.load(from: imported)
        for (a, b) in zip(original.parameters, reloaded.parameters) { #expect(a.tensor == b.tensor, "\(a.name)") }
        // A file nn export wrote carries its architecture.
        #expect(try CLI.run(["import", "--state-dict", torch, "--output", imported]).status == 0)
    }

    @Test func checkpointWithInvalidRunSettingsIsAOneLineError() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = Sequential { Bidirectional(LSTM(units: 2)); Dense(units: 10, activation: .softmax) }
        try model.build(inputShape: [28, 28], seed: 0)
        let state = TrainingState(epoch: 1, shuffler: [1, 2, 3, 4], history: [], elapsedSeconds: 1)
        for settings in [["data": fashionMNIST, "batch_size": "64", "seed": "1", "train_limit": "0"],
                         ["data": fashionMNIST, "batch_size": "64", "seed": "1", "clip_norm": "nan"],
                         ["data": fashionMNIST, "seed": "1"]] {
            try Checkpoint(model: model, optimizer: SGD(), state: state, settings: settings)
                .write(to: directory.appendingPathComponent("last.safetensors").path)
            let result = try CLI.run(["train", "--resume", directory.path, "--epochs", "2"])
            #expect(result.status == 1, "\(settings): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
            #expect(result.stderr.contains("run settings"))
        }
    }

    @Test func corruptModelFileIsAOneLineError() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.safetensors")
        try Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 1, 2]).write(to: path)
        let result = try CLI.run(["summary", "--model", path.path])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("header length"))
    }
}

struct CLIPlotTests {
    @Test func plotWritesAnSVGFromAHistoryFile() throws {
        let directory = try IDXBytes.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let history = directory.appendingPathComponent("history.csv").path
        try History.write(HistoryTests.sample, to: history)
        let output = directory.appendingPathComponent("curves.svg").path
        let result = try CLI.run(["plot", history, "--output", output])
        #expect(result.status == 0, "\(result.stderr)")
        let svg = try String(contentsOfFile: output, encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        let missing = try CLI.run(["plot", directory.appendingPathComponent("none.csv").path])
        #expect(missing.status == 1 && missing.stderr.contains("none.csv"))
    }
}
