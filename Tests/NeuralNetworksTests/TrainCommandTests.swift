import Foundation
import NeuralNetworks
import Testing

/// `nn train` beyond the reference model: presets, model specs and files, optimizers and losses,
/// the resume rule, and outputs checked before training.
struct TrainCommandTests {
    static let quick = ["--train-limit", "256", "--test-limit", "64", "--batch-size", "64"]

    static func folder() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nn-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    static func epochLines(_ stdout: String) -> [Substring] { stdout.split(separator: "\n").filter { $0.hasPrefix("loss: ") } }

    @Test func presetsAreListedAndEachNamesItsModel() throws {
        let list = try CLI.run(["presets"])
        #expect(list.status == 0)
        for preset in Preset.all { #expect(list.stdout.contains(preset.name)) }
        #expect(list.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
        let one = try CLI.run(["presets", "dropout"])
        #expect(one.stdout.contains("dropout(0.5)") && one.stdout.contains("0.9849"))
        #expect(try CLI.run(["presets", "nope"]).status != 0)
    }

    @Test(arguments: Preset.all.map(\.name))
    func everyPresetTrainsFromOneCommand(_ name: String) throws {
        var arguments = ["train", "--preset", name, "--epochs", "1", "--train-limit", "128", "--test-limit", "64"]
        if name == "perceptron" { arguments += ["--batch-size", "16"] }
        if name == "bilstm" { arguments += ["--units", "8"] }
        if name == "ctc-lines" { arguments += ["--lines", "64,16"] }
        let result = try CLI.run(arguments)
        #expect(result.status == 0, "\(name): \(result.stderr)")
        #expect(Self.epochLines(result.stdout).count == 1)
    }

    @Test func specAndOptimizerAndLossFlagsTrain() throws {
        let result = try CLI.run(["train", "--model", "flatten dense(32, relu) dropout(0.2) dense(classes, sigmoid)",
                                  "--optimizer", "adam", "--loss", "binary-crossentropy", "--schedule", "warmup:2,cosine:8",
                                  "--epochs", "2"] + Self.quick)
        #expect(result.status == 0, "\(result.stderr)")
        let nested = try CLI.run(["train", "--schedule", "warmup:2,warmup:3"])
        #expect(nested.status != 0 && nested.stderr.contains("not a second warmup"), "\(nested.stderr)")
        #expect(result.stdout.contains("dropout (Dropout)"))
        #expect(Self.epochLines(result.stdout).count == 2)
    }

    /// `--loss` takes settings as a spec does; the checkpoint keeps them, so `--resume` continues
    /// with them, and another value is refused naming both.
    @Test func lossSettingsTrainAndAreKeptForResume() throws {
        let folder = try Self.folder()
        let first = try CLI.run(["train", "--model", "flatten dense(16, tanh) dense(classes)", "--loss", "huber(delta=0.5)",
                                 "--checkpoint", folder, "--epochs", "1"] + Self.quick)
        #expect(first.status == 0, "\(first.stderr)")
        let again = try CLI.run(["train", "--resume", folder, "--epochs", "2", "--loss", "Huber(delta=0.5)"])
        #expect(again.status == 0 && Self.epochLines(again.stdout).count == 2, "\(again.stderr)")
        let other = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--loss", "huber"])
        #expect(other.status == 1 && other.stderr.contains("--loss huber differs from the run's own huber(delta=0.5)"),
                "\(other.stderr)")
        let smoothing = try CLI.run(["train", "--model", "flatten dense(16, tanh) dense(classes, softmax)",
                                     "--loss", "categorical-crossentropy(label_smoothing=0.1)", "--epochs", "1"] + Self.quick)
        #expect(smoothing.status == 0 && Self.epochLines(smoothing.stdout).count == 1, "\(smoothing.stderr)")
        let typo = try CLI.run(["train", "--loss", "huber(delt=2)"] + Self.quick)
        #expect(typo.status != 0 && typo.stderr.contains("--loss, column 7: huber has no setting delt (its settings: delta)"),
                "\(typo.stderr)")
    }

    /// `--optimizer` takes settings as a spec does; the flags fill the settings it leaves out (and
    /// may not repeat one it gives), the preset's values only its own optimizer's, and `--resume`
    /// compares the whole optimizer.
    @Test func optimizerSpecsTrainWithFlagsBesideThem() throws {
        let folder = try Self.folder()
        let model = ["--model", "flatten dense(16, tanh) dense(classes, softmax)", "--epochs", "1"] + Self.quick
        let first = try CLI.run(["train", "--optimizer", "adamw(beta_2=0.99)", "--weight-decay", "0.05",
                                 "--checkpoint", folder] + model)
        #expect(first.status == 0, "\(first.stderr)")
        let adam = try #require(try Checkpoint(path: (folder as NSString).appendingPathComponent("last.safetensors")).optimizer as? Adam)
        #expect((adam.learningRate, adam.beta2, adam.weightDecay, adam.decoupledWeightDecay) == (0.001, 0.99, 0.05, true))
        let again = try CLI.run(["train", "--resume", folder, "--epochs", "2", "--optimizer", "AdamW(beta_2=0.99, weight_decay=0.05)"])
        #expect(again.status == 0, "\(again.stderr)")
        let other = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--optimizer", "adamw"])
        #expect(other.status == 1 && other.stderr.contains("beta_2 0.999 where the run has 0.99, weight_decay 0.01 where the run has 0.05"),
                "\(other.stderr)")
        // Flags alone set the run's own optimizer's settings (not the preset's SGD).
        let ownRate = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--learning-rate", "0.001"])
        #expect(ownRate.status == 0, "\(ownRate.stderr)")
        let otherRate = try CLI.run(["train", "--resume", folder, "--epochs", "4", "--learning-rate", "0.5"])
        #expect(otherRate.status == 1 && otherRate.stderr.contains("learning_rate 0.5 where the run has 0.001"), "\(otherRate.stderr)")
        let twice = try CLI.run(["train", "--optimizer", "sgd(learning_rate=0.1)", "--learning-rate", "0.2"] + model)
        #expect(twice.status != 0 && twice.stderr.contains("--learning-rate and --optimizer sgd(learning_rate=0.1) both set"),
                "\(twice.stderr)")
        let lacking = try CLI.run(["train", "--optimizer", "adam", "--momentum", "0.5"] + model)
        #expect(lacking.status != 0 && lacking.stderr.contains("--momentum sets momentum, which adam does not have (its settings:"),
                "\(lacking.stderr)")
        let typo = try CLI.run(["train", "--optimizer", "nadam(momentum_decy=0.01)"] + model)
        #expect(typo.status != 0 && typo.stderr.contains("--optimizer, column 7: Nadam has no setting momentum_decy"),
                "\(typo.stderr)")
        // The bilstm preset's SGD: its rate, Nesterov and decay under the spec's momentum.
        let presetFolder = try Self.folder()
        let preset = try CLI.run(["train", "--units", "4", "--optimizer", "sgd(momentum=0.5)", "--checkpoint", presetFolder,
                                  "--epochs", "1"] + Self.quick)
        #expect(preset.status == 0, "\(preset.stderr)")
        let sgd = try #require(try Checkpoint(path: (presetFolder as NSString).appendingPathComponent("last.safetensors")).optimizer as? SGD)
        #expect((sgd.learningRate, sgd.momentum, sgd.nesterov, sgd.decay) == (0.1, 0.5, true, 1e-6))
        let unknown = try CLI.run(["train", "--optimizer", "lion"] + model)
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown optimizer \"lion\""), "\(unknown.stderr)")
    }

    /// The model file keeps the loss, so a CTC blank anywhere is read back by nn evaluate and nn
    /// predict; nn asks for per-step probabilities (other outputs give a meaningless loss below 0).
    @Test func ctcBlankAnywhereIsKeptAndPerStepProbabilitiesAreAskedFor() throws {
        let folder = try Self.folder(), model = (folder as NSString).appendingPathComponent("first-blank.safetensors")
        let lines = ["--lines", "64,16", "--epochs", "1"]
        let blank = try CLI.run(["train", "--model", "reshape([-1, 56]) gru(16, seq) timedistributed(dense(classes, softmax))",
                                 "--loss", "ctc(blank=0)", "--save", model, "--train-limit", "300", "--test-limit", "40"] + lines)
        #expect(blank.status == 0, "\(blank.stderr)")
        let evaluated = try CLI.run(["evaluate", "--model", model, "--test-limit", "40"] + lines.prefix(2))
        #expect(evaluated.status == 0 && evaluated.stdout.contains("loss function: ctc(blank=0) (the model's)"), "\(evaluated.stderr)")
        // A loss in the file that cannot be used stops what needs it, naming the file; the rest works.
        var file = try Safetensors(path: model)
        let broken = (folder as NSString).appendingPathComponent("broken.safetensors")
        for (loss, words) in [(#"{"type":"ctc","blank":99}"#, "its ctc loss puts the blank at 99, outside the model's 11"),
                              (#"{"type":"Nonsense"}"#, "its loss (__metadata__ loss) is unreadable: unknown loss \"Nonsense\"")] {
            file.metadata["loss"] = loss
            try file.write(to: broken)
            let refused = try CLI.run(["evaluate", "--model", broken, "--test-limit", "40"] + lines.prefix(2))
            #expect(refused.status == 1 && refused.stderr.contains("\(broken): \(words)") && refused.stderr.contains("--loss"),
                    "\(refused.stderr)")
            let named = try CLI.run(["evaluate", "--model", broken, "--test-limit", "40", "--loss", "ctc"] + lines.prefix(2))
            #expect(named.status == 0 && named.stdout.contains("loss function: ctc (--loss)"), "\(named.stderr)")
            #expect(try CLI.run(["summary", "--model", broken]).status == 0)
        }
        let outside = try CLI.run(["train", "--model", "timedistributed(dense(classes, softmax))", "--loss", "ctc(blank=99)"] + lines)
        #expect(outside.status == 1 && outside.stderr.contains("outside the model's"), "\(outside.stderr)")
        let linear = try CLI.run(["train", "--model", "timedistributed(dense(classes))", "--loss", "ctc"] + lines)
        #expect(linear.status == 1 && linear.stderr.contains("end the model with timedistributed(dense(classes, softmax))"),
                "\(linear.stderr)")
    }

    @Test func specErrorNamesTheColumn() throws {
        let result = try CLI.run(["train", "--model", "flatten dense(32, relux)"] + Self.quick)
        #expect(result.status == 1)
        #expect(result.stderr.contains("column 9") && result.stderr.contains("activation"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func savedArchitectureTrainsAgainFromJSON() throws {
        let folder = try Self.folder()
        let json = (folder as NSString).appendingPathComponent("model.json")
        let model = try ModelSpec.model("flatten dense(16, tanh) dense(10, softmax)")
        try model.build(inputShape: [28, 28], seed: 0)
        try Data(canonicalJSON(model.modelDescription).utf8).write(to: URL(fileURLWithPath: json))
        let result = try CLI.run(["train", "--model", json, "--epochs", "1"] + Self.quick)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("(None, 16)"))
    }

    @Test func resumeAcceptsTheRunsOwnFlagsAndRefusesOthersNamingBoth() throws {
        let folder = try Self.folder()
        let first = ["train", "--units", "8", "--checkpoint", folder, "--epochs", "1"] + Self.quick
        #expect(try CLI.run(first).status == 0)
        // The same command with --resume added continues.
        let again = try CLI.run(first.filter { $0 != "--checkpoint" && $0 != folder } + ["--resume", folder, "--epochs", "2"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.epochLines(again.stdout).count == 2)
        let other = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--batch-size", "32"])
        #expect(other.status == 1)
        #expect(other.stderr.contains("--batch-size 32 differs from the run's own 64"))
        let units = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--units", "16"])
        #expect(units.status == 1 && units.stderr.contains("differs from the run's own"))
        let rate = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--learning-rate", "0.5"])
        #expect(rate.status == 1 && rate.stderr.contains("optimizer"))
        // --seed was compared with itself, and any seed was taken without a word.
        let seed = try CLI.run(["train", "--resume", folder, "--epochs", "3", "--seed", "7"])
        #expect(seed.status == 1 && seed.stderr.contains("--seed 7 differs from the run's own 0"), "\(seed.stderr)")
    }

    /// The first command with --resume added continues when it names a model with --model and
    /// --normalize: the run's model starts with the normalisation layer the flag added.
    @Test func resumeAcceptsTheSameModelSpecWithNormalization() throws {
        let folder = try Self.folder()
        let first = ["train", "--model", "flatten dense(8, relu) dense(classes, softmax)", "--normalize", "standardize",
                     "--epochs", "1"] + Self.quick
        #expect(try CLI.run(first + ["--checkpoint", folder]).status == 0)
        let again = try CLI.run(first.map { $0 == "1" ? "2" : $0 } + ["--resume", folder])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(Self.epochLines(again.stdout).count == 2)
        let other = try CLI.run(first.map { $0 == "1" ? "3" : $0.replacingOccurrences(of: "dense(8", with: "dense(9") } + ["--resume", folder])
        #expect(other.status == 1 && other.stderr.contains("the model of --model"), "\(other.stderr)")
    }

    /// `--patience` stops the run once the test loss stops improving: with `--min-delta 100` no
    /// epoch after the first improves, so patience 0 stops after epoch 2 of 5.
    @Test func patienceStopsTheRunEarly() throws {
        let folder = try Self.folder()
        let result = try CLI.run(["train", "--units", "8", "--epochs", "5", "--patience", "0", "--min-delta", "100",
                                  "--checkpoint", folder] + Self.quick)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.epochLines(result.stdout).count == 2)
        #expect(result.stdout.contains("early stop after epoch 2: the test loss has not improved for 1 epoch (best "), "\(result.stdout)")
        #expect(result.stdout.contains("at epoch 1)") && result.stdout.contains("/best.safetensors"))
        // The checkpoint keeps the rule: resumed, the run has nothing left to do; another patience is refused.
        let resumed = try CLI.run(["train", "--resume", folder, "--epochs", "5"])
        #expect(resumed.status == 0 && !resumed.stdout.contains("step 3") && resumed.stdout.contains("early stop after epoch 2"),
                "\(resumed.stdout)\(resumed.stderr)")
        let other = try CLI.run(["train", "--resume", folder, "--epochs", "5", "--patience", "3"])
        #expect(other.status == 1 && other.stderr.contains("--patience 3 differs from the run's own 0"))
        let alone = try CLI.run(["train", "--min-delta", "1"])
        #expect(alone.status != 0 && alone.stderr.contains("--min-delta goes with --patience"))
    }

    /// The closing line's rate is the samples trained over the time the epochs took ("in all"),
    /// not over the time saving the model took too.
    @Test func theClosingRateCountsTheEpochsTime() throws {
        let folder = try Self.folder()
        let result = try CLI.run(["train", "--units", "8", "--epochs", "1", "--train-limit", "4096", "--test-limit", "64",
                                  "--save", folder + "/m.safetensors", "--checkpoint", folder + "/run"])
        #expect(result.status == 0, "\(result.stderr)")
        let closing = try #require(result.stdout.firstMatch(of: /; (\d+\.\d+) s in all; (\d+) training samples\/s/))
        let (seconds, rate) = (Double(closing.1)!, Double(closing.2)!)
        #expect(seconds > 0 && abs(rate * seconds - 4096) <= 4096 * 0.05 + rate * 0.005, "\(closing.0)")
    }

    @Test func outputsAreCheckedBeforeTheFirstEpoch() throws {
        let folder = try Self.folder()
        let intoFolder = try CLI.run(["train", "--units", "8", "--epochs", "1", "--save", folder] + Self.quick)
        #expect(intoFolder.status == 1 && intoFolder.stderr.contains("is a directory"))
        #expect(!intoFolder.stdout.contains("loss: "))
        let missing = try CLI.run(["train", "--units", "8", "--epochs", "1", "--history", "/proc/nope/h.csv"] + Self.quick)
        #expect(missing.status == 1 && !missing.stdout.contains("loss: "))
    }

    @Test func anotherRunsCheckpointIsNotReplacedWithoutOverwrite() throws {
        let folder = try Self.folder()
        let run = ["train", "--units", "8", "--epochs", "1", "--checkpoint", folder] + Self.quick
        #expect(try CLI.run(run).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/last.safetensors"))
        let refused = try CLI.run(run)
        #expect(refused.status == 1 && refused.stderr.contains("--resume") && refused.stderr.contains("--overwrite"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/last.safetensors")) == before)
        #expect(try CLI.run(run + ["--overwrite"]).status == 0)
    }

    @Test func bareNnShowsHelpAndVersionIsKnown() throws {
        let bare = try CLI.run([])
        #expect(bare.stdout.contains("USAGE") && !bare.stdout.contains("loss: "))
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && !version.stdout.isEmpty)
    }
}
