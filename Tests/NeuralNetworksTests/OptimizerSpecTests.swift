import Foundation
import NeuralNetworks
import Testing

/// `OptimizerSpec`: an optimizer in one line, read through the registry (no optimizer named in
/// the parser), its settings over the optimizer's defaults, an alias's and the caller's.
struct OptimizerSpecTests {
    /// What reading and making `text` says: its error, or "accepted".
    static func message(_ text: String) -> String {
        do { _ = try OptimizerSpec(text).makeOptimizer() } catch { return "\(error)" }
        return "accepted"
    }

    @Test func everyRegisteredOptimizerIsWrittenByItsNameInAnyCase() throws {
        let registry = ModuleRegistry.standard
        for type in registry.optimizerTypes {
            for spelling in [type, type.lowercased(), type.uppercased()] {
                let optimizer = try OptimizerSpec(spelling).makeOptimizer()
                #expect(optimizer.typeName == type)
                #expect(optimizer.iterations == 0)
            }
        }
        #expect(registry.optimizerSpellings.contains("adamw"))
    }

    @Test func settingsReplaceTheDefaultsAndOthersKeepThem() throws {
        let adam = try #require(try OptimizerSpec("adam(beta_2=0.98, learning_rate=0.01)").makeOptimizer() as? Adam)
        #expect((adam.learningRate, adam.beta1, adam.beta2, adam.epsilon) == (0.01, 0.9, 0.98, 1e-8))
        #expect(!adam.decoupledWeightDecay)
        let sgd = try #require(try OptimizerSpec("SGD( momentum = 0.9, nesterov = true )").makeOptimizer() as? SGD)
        #expect((sgd.learningRate, sgd.momentum, sgd.nesterov) == (0.01, 0.9, true))
    }

    /// nn's defaults: the inits', with Keras' learning rate where PyTorch's differs.
    @Test func specDefaultsUseKerasLearningRates() throws {
        let rates = try ["sgd", "adam", "rmsprop", "adagrad", "adamax", "nadam"].map {
            try OptimizerSpec($0).makeOptimizer().learningRate(iteration: 0)
        }
        #expect(rates == [0.01, 0.001, 0.001, 0.01, 0.001, 0.001])
    }

    @Test func adamwIsAdamWithDecoupledWeightDecayWhichASettingChanges() throws {
        let plain = try #require(try OptimizerSpec("adamw").makeOptimizer() as? Adam)
        #expect(plain.decoupledWeightDecay && plain.weightDecay == 0.01)
        let heavier = try #require(try OptimizerSpec("AdamW(weight_decay=0.05)").makeOptimizer() as? Adam)
        #expect(heavier.decoupledWeightDecay && heavier.weightDecay == 0.05)
        #expect(try OptimizerSpec("adamw").name == "adamw" && OptimizerSpec("adamw").type == "Adam")
    }

    /// A schedule's settings are checked as the optimizer's are: none dropped, none twice, and
    /// SGD's `decay` (a time-decay schedule) not beside another schedule.
    @Test func aScheduleTakesOnlyItsOwnSettingsOnce() throws {
        #expect(Self.message("adam(schedule=cosine(steps=8, minimun=0.5))").contains("a cosine schedule has no setting minimun (its settings: steps, minimum)"))
        #expect(Self.message("adam(schedule=cosine(steps=8, steps=9))").contains("cosine: steps is given twice"))
        #expect(Self.message("adam(schedule=cosine(type=step, every=2))").contains("cosine(…) names its type already"))
        #expect(Self.message("adam(schedule=linear)").contains("schedule \"linear\": write it with its settings"))
        #expect(Self.message("sgd(decay=0.01, schedule=cosine(steps=8))").contains("give decay or schedule, not both"))
        #expect((try OptimizerSpec("adam(schedule=constant)").makeOptimizer() as? Adam)?.schedule == .constant)
        #expect((try OptimizerSpec("adam(schedule=Time_Decay(decay=0.5))").makeOptimizer() as? Adam)?.schedule == .timeDecay(0.5))
    }

    @Test func aScheduleIsWrittenAsACall() throws {
        let sgd = try #require(try OptimizerSpec("sgd(schedule=cosine(steps=100, minimum=0.001))").makeOptimizer() as? SGD)
        #expect(sgd.schedule == .cosine(steps: 100, minimum: 0.001))
        let warm = try OptimizerSpec("adam(schedule=warmup(steps=5, then=step(every=10, factor=0.5)))").makeOptimizer()
        #expect((warm as? Adam)?.schedule == .warmup(steps: 5, then: .step(every: 10, factor: 0.5)))
    }

    /// `beneath` (a preset's values) gives way to the alias's and the spec's own; `over` (flags) to nothing.
    @Test func beneathFillsWhatTheSpecLeavesAndOverReplacesAll() throws {
        let spec = try OptimizerSpec("adamw(beta_1=0.8)")
        let optimizer = try #require(try spec.makeOptimizer(beneath: ["learning_rate": 0.5, "weight_decay": 0.3, "beta_1": 0.1],
                                                            over: ["epsilon": 1e-6]) as? Adam)
        #expect((optimizer.learningRate, optimizer.weightDecay, optimizer.beta1, optimizer.epsilon) == (0.5, 0.01, 0.8, 1e-6))
        #expect(spec.settings.keys.sorted() == ["beta_1"])
    }

    @Test func aSettingTheOptimizerLacksIsAnErrorNamingTheOnesItHas() throws {
        #expect(try OptimizerSpec("adam").settingNames
                == ["beta_1", "beta_2", "decoupled_weight_decay", "epsilon", "learning_rate", "schedule", "weight_decay"])
        let typo = #expect(throws: ModelSpecError.self) { try OptimizerSpec("adam(beta2=0.9)").makeOptimizer() }
        #expect(typo?.column == 6 && typo?.description.contains("Adam has no setting beta2 (its settings: beta_1,") == true)
        let flag = #expect(throws: ModelSpecError.self) { try OptimizerSpec("adam").makeOptimizer(over: ["momentum": 0.9]) }
        #expect(flag?.message.contains("Adam has no setting momentum") == true)
        for text in ["adam(type=SGD)", "adam(iterations=9)"] {
            #expect(throws: ModelSpecError.self) { try OptimizerSpec(text).makeOptimizer() }
        }
    }

    @Test func badSpecsAreErrorsThatSayWhatIsWrong() throws {
        #expect(Self.message("lion").contains("unknown optimizer \"lion\" (known: adagrad, adam,"))
        #expect(Self.message("").contains("expected an optimizer"))
        #expect(Self.message("adam(0.1)").contains("takes key=value settings only"))
        #expect(Self.message("adam(beta_1=0.9, beta_1=0.8)").contains("beta_1 is given twice"))
        #expect(Self.message("adam(beta_1=1)").contains("betas in [0, 1)"))
        #expect(Self.message("adam(learning_rate=1e300)").contains("does not fit"))
        #expect(Self.message("adam(schedule=7)").contains("schedule: expected name(key=value, …)"))
        #expect(Self.message("adam(nesterov=true) extra").contains("expected the end of the optimizer"))
        #expect(Self.message(String(repeating: "x", count: 500)).count < 200)
    }

    /// An optimizer of a package's own: a registry that has it reads its spec; without spec
    /// defaults, a spec gives every setting (and the error names the one missing).
    @Test func aPackagesOptimizerIsWrittenThroughItsRegistry() throws {
        let registry = ModuleRegistry.standard.adding(HalvingSGD.self)
        #expect(throws: ModelSpecError.self) { try OptimizerSpec("halvingsgd(learning_rate=0.1)") }
        let spec = try OptimizerSpec("halving_sgd(learning_rate=0.1)", registry: registry)
        #expect(spec.settingNames == nil)
        let missing = #expect(throws: ModelSpecError.self) { try spec.makeOptimizer() }
        #expect(missing?.message.contains("missing halve_every") == true, "\(String(describing: missing))")
        let made = try OptimizerSpec("halving-sgd(learning_rate=0.1, halve_every=3)", registry: registry).makeOptimizer()
        #expect(made.learningRate(iteration: 3) == 0.05)
    }
}

/// SGD whose rate halves every few updates; no spec defaults.
private final class HalvingSGD: Optimizer {
    static let typeName = "Halving_SGD"
    static let slotNames: [String] = []
    let learningRate: Float, halveEvery: Int
    var iterations = 0
    let state = OptimizerState()

    struct Configuration: Codable, Sendable {
        var learningRate: Float, halveEvery: Int
        enum CodingKeys: String, CodingKey { case learningRate = "learning_rate", halveEvery = "halve_every" }
    }
    var configuration: Configuration { Configuration(learningRate: learningRate, halveEvery: halveEvery) }
    init(configuration: Configuration) { (learningRate, halveEvery) = (configuration.learningRate, configuration.halveEvery) }

    func learningRate(iteration: Int) -> Float { learningRate / Float(1 << min(iteration / max(halveEvery, 1), 30)) }

    func update(_ parameters: [Parameter]) {
        let rate = learningRate(iteration: iterations)
        for parameter in parameters where parameter.isTrainable {
            for k in 0..<parameter.count { parameter.values[k] -= rate * parameter.gradients[k] }
        }
        iterations += 1
    }
}
