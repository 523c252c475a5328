import Foundation
import Testing
@testable import NeuralNetworks

struct ModelSpecTests {
    static func types(_ spec: String, classes: Int? = nil) throws -> [String] {
        try ModelSpec.layers(spec, classes: classes).map(\.type)
    }

    @Test func specBuildsTheLayersItNames() throws {
        let model = try ModelSpec.model("flatten dense(512, relu) dropout(0.5) dense(classes, softmax)", classes: 7)
        try model.build(inputShape: [28, 28], seed: 0)
        #expect(model.layers.map(\.typeName) == ["Flatten", "Dense", "Dropout", "Dense"])
        #expect(model.outputShape == [7])
        #expect((model.layers[1] as! Dense).activation == .relu && (model.layers[2] as! Dropout).rate == 0.5)
    }

    @Test func shorthandsKeywordsListsAndNestedCalls() throws {
        #expect(try Self.types("bilstm(128, recurrent_activation=hard_sigmoid) -> dense(10, softmax)") == ["Bidirectional", "Dense"])
        #expect(try Self.types("reshape([28, -1]) | LSTM(8, return_sequences=true) → bidirectional(lstm(4)) relu") ==
                ["Reshape", "LSTM", "Bidirectional", "Activation"])
        let dense = try ModelSpec.model("dense(3, sigmoid, kernel_initializer=random_uniform(low=-0.01, high=0.01), use_bias=false)")
        let layer = dense.layers[0] as! Dense
        #expect(layer.kernelInitializer == .randomUniform(low: -0.01, high: 0.01) && !layer.useBias)
        let lstm = try ModelSpec.model("bilstm(16, recurrent_activation=hard_sigmoid)").layers[0] as! Bidirectional
        #expect((lstm.forwardLayer as! LSTM).recurrentActivation == .hardSigmoid)
    }

    @Test func theSpecOfAModelDescribesTheSameModelAsItsFile() throws {
        let spec = try ModelSpec.layers("gaussian_noise(0.1) dense(4, gelu) dense(2, softmax)")
        let json = try canonicalJSON(ModelDescription(inputShape: [3], layers: spec))
        let again = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
        #expect(again.layers == spec)
    }

    @Test(arguments: [
        ("dense(10, softmax", 18, "expected ')'"),
        ("dense(10) blah(3)", 11, "unknown layer \"blah\""),
        ("dense(units=10, relu)", 7, "units is given twice"),
        ("dense(ten)", 1, "units: expected a whole number"),
        ("dense(10, relux)", 1, "activation: \"relux\" is not one of linear, relu, sigmoid, hard_sigmoid, tanh"),
        // A name a setting does not take lists those it does (Foundation said "Cannot initialize").
        ("conv(4, 3x3, padding=full)", 1, "padding: \"full\" is not one of valid, same, causal"),
        ("upsample(2, interpolation=cubic)", 1, "interpolation: \"cubic\" is not one of nearest, bilinear"),
        ("dropout(1.5)", 1, "dropout rate must be in [0, 1)"),
        ("dense(classes)", 7, "'classes' needs a data set"),
        ("", 1, "expected a layer"),
        ("dense(1, 2, 3)", 1, "at most 2 positional arguments"),
        ("dense(10, units=3)", 11, "units is given twice"),
        // A misspelt key would otherwise be dropped silently: a linear layer where relu was meant.
        ("dense(10, activaton=relu)", 11, "dense has no setting activaton (its settings: activation, "),
        ("dense(10, seq)", 11, "no setting return_sequences"),
        ("deconv(4, 3, groups=2)", 14, "output_padding, padding, strides, use_bias)"),
        ("bi(gru(4, foo=1))", 11, "gru has no setting foo"),
        ("bi(gru(4), merge: sum, merge_mode: ave)", 24, "merge_mode is given twice"),
    ])
    func specErrorsSayWhereAndWhatWasExpected(_ spec: String, _ column: Int, _ words: String) {
        #expect {
            try ModelSpec.layers(spec)
        } throws: { error in
            guard let error = error as? ModelSpecError else { return false }
            return error.column == column && error.message.contains(words)
        }
    }
    /// A loss spec names a loss as `--loss` takes it: the type name or an alias in any case, with
    /// `-` or `_`, and its settings as key=value.
    @Test func lossSpecsNameTheirTypeAndSettings() throws {
        #expect(try Loss(spec: "mse").function is MeanSquaredError)
        #expect(try Loss(spec: "MAE").function is MeanAbsoluteError)
        #expect(try Loss(spec: "sparse-categorical-crossentropy").function is CategoricalCrossEntropy)
        #expect((try Loss(spec: " Categorical-CrossEntropy( label_smoothing = 0.1 ) ").function as? CategoricalCrossEntropy)?.labelSmoothing == 0.1)
        #expect((try Loss(spec: "huber(delta: 2)").function as? Huber)?.delta == 2)
        #expect((try Loss(spec: "ctc(blank=0, zero_infinity=true)").function as? CTCLoss)?.zeroInfinity == true)
    }

    /// Nesting deep enough to exhaust the stack is an error, in a model spec and in a loss; a
    /// number its setting cannot hold, or a value of the wrong kind, says what was expected.
    @Test func hostileSpecsAreErrorsNotCrashes() {
        let deep = String(repeating: "[", count: 10_000) + "1" + String(repeating: "]", count: 10_000)
        #expect(throws: ModelSpecError.self) { try ModelSpec.layers("reshape(\(deep))") }
        #expect(throws: ModelSpecError.self) { try Loss(spec: "huber(delta=\(deep))") }
        #expect(throws: ModelSpecError.self) { try Loss(spec: String(repeating: "f(", count: 20_000)) }
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { try Loss(spec: "huber(delta=1e300)") }.contains("does not fit its setting"))
        #expect(message { try Loss(spec: "ctc(zero_infinity=yes)") }.contains("expected true or false"))
        #expect(message { try ModelSpec.layers("dense(10, 2)") }.contains("activation: expected a name"))
        let long = message { try Loss(spec: String(repeating: "x", count: 100_000)) }
        #expect(long.contains("unknown loss \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…\"") && long.count < 1_000)
    }

    @Test(arguments: [
        ("hubber", 1, "unknown loss \"hubber\" (known: binary_crossentropy, "),
        ("huber(delt=2)", 7, "huber has no setting delt (its settings: delta)"),
        // Settings left at nil are listed too (the blank, an output padding).
        ("ctc(beam=3)", 5, "ctc has no setting beam (its settings: blank, reduction, zero_infinity)"),
        ("mae(delta=2)", 5, "mean_absolute_error has no setting delta (it has none)"),
        ("huber(2)", 1, "takes key=value settings only"),
        ("huber(delta=0)", 1, "delta must be a positive number"),
        ("crossentropy(label_smoothing=1.5)", 1, "label_smoothing must be in [0, 1]"),
        ("huber(delta=1, delta=2)", 16, "delta is given twice"),
        ("ctc(reduction=total)", 1, "reduction: \"total\" is not one of"),
        ("mse dense(3)", 5, "expected the end of the loss"),
        ("", 1, "expected a loss"),
    ])
    func lossSpecErrorsSayWhereAndWhatWasExpected(_ spec: String, _ column: Int, _ words: String) {
        #expect {
            try Loss(spec: spec)
        } throws: { error in
            guard let error = error as? ModelSpecError else { return false }
            return error.column == column && error.message.contains(words) && error.description.hasPrefix("loss, column")
        }
    }
}
