import Foundation
import Testing
@testable import NeuralNetworks

struct OptimizerTests {
    /// Steps on a parameter from fixed gradients; `values[k]` is the parameter after step k + 1.
    static func run(_ optimizer: any Optimizer, start: [Float], gradients: [[Float]]) -> [[Float]] {
        let parameter = Parameter(name: "p", shape: [start.count])
        parameter.tensor = Tensor(shape: [start.count], scalars: start)
        return gradients.map { gradient in
            parameter.gradient.update(from: gradient, count: gradient.count)
            optimizer.update([parameter])
            return parameter.tensor.scalars
        }
    }

    struct Fixture: Decodable {
        struct Case: Decodable { let after_each_step: [[Float]] }
        let start: [Float]
        let gradients: [[Float]]
        let cases: [String: Case]
    }

    /// The same settings as scripts/make_fixtures.py gives torch.optim.
    static let pyTorchCases: [String: @Sendable () -> any Optimizer] = [
        "sgd_momentum_weight_decay": { SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01) },
        "adam": { Adam(learningRate: 0.01) },
        "adam_weight_decay": { Adam(learningRate: 0.01, weightDecay: 0.1) },
        "adamw": { Adam.adamW(learningRate: 0.01, weightDecay: 0.1) },
        "rmsprop": { RMSprop(learningRate: 0.01, rho: 0.9, epsilon: 1e-7) },
        "rmsprop_momentum": { RMSprop(learningRate: 0.01, rho: 0.99, momentum: 0.5) },
        "adagrad": { Adagrad(learningRate: 0.1, initialAccumulator: 0.1) },
        "adamax": { Adamax(learningRate: 0.02, weightDecay: 0.01) },
        "nadam": { Nadam(learningRate: 0.01, weightDecay: 0.01) },
        "nadam_momentum_decay": { Nadam(learningRate: 0.01, momentumDecay: 0.05) },
    ]

    @Test(arguments: pyTorchCases.keys.sorted())
    func stepsMatchTorchOptim(_ name: String) throws {
        let f = try Fixtures.load("optimizers.json", as: Fixture.self)
        let expected = try #require(f.cases[name]).after_each_step
        let actual = Self.run(Self.pyTorchCases[name]!(), start: f.start, gradients: f.gradients)
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            expectClose(Tensor(shape: [a.count], scalars: a), Tensor(shape: [e.count], scalars: e),
                        relative: 1e-5, absolute: 1e-6, "\(name) after step \(step + 1)")
        }
    }

    @Test func adamFirstStepMovesEachValueByTheLearningRate() {
        // After one step m̂ = g and v̂ = g², so every value moves by lr · g / (|g| + ε) ≈ lr · sign(g).
        let after = Self.run(Adam(learningRate: 0.1), start: [1, 2, 3], gradients: [[0.5, -4, 1e-3]])[0]
        expectClose(Tensor(shape: [3], scalars: after), Tensor(shape: [3], scalars: [0.9, 2.1, 2.9]),
                    relative: 1e-4, absolute: 1e-4, "after one step")
    }

    @Test func adamWShrinksWeightsWithoutAGradient() {
        let after = Self.run(Adam.adamW(learningRate: 0.1, weightDecay: 0.5), start: [2], gradients: [[0]])[0]
        #expect(after == [2 * (1 - 0.1 * 0.5)])
    }

    /// Adamax divides by the largest recent |g| (its infinity norm): one step moves each value by
    /// the learning rate, whatever the gradient's size.
    @Test func adamaxFirstStepMovesEachValueByTheLearningRate() {
        let after = Self.run(Adamax(learningRate: 0.1, epsilon: 0), start: [1, 2], gradients: [[0.5, -40]])[0]
        expectClose(Tensor(shape: [2], scalars: after), Tensor(shape: [2], scalars: [0.9, 2.1]), relative: 1e-6,
                    absolute: 1e-6, "after one step")
    }

    /// Nadam's momentum product is worked out again from the update count, so a fresh optimizer
    /// given a run's count and moments continues it exactly (as a checkpoint resumes it).
    @Test func nadamResumedFromItsCountContinuesExactly() throws {
        let gradients: [[Float]] = (0..<6).map { step in (0..<3).map { Float(step * 3 + $0 % 5) * 0.1 - 0.4 } }
        let whole = Self.run(Nadam(learningRate: 0.01), start: [1, -1, 0.5], gradients: gradients)
        let first = Nadam(learningRate: 0.01), parameter = Parameter(name: "p", shape: [3])
        parameter.tensor = Tensor(shape: [3], scalars: [1, -1, 0.5])
        for g in gradients.prefix(3) {
            parameter.gradient.update(from: g, count: 3)
            first.update([parameter])
        }
        let second = Nadam(learningRate: 0.01)
        second.iterations = first.iterations
        for slot in Nadam.slotNames {
            second.state.slot(slot, for: parameter).update(from: first.state.slot(slot, for: parameter), count: 3)
        }
        for g in gradients.dropFirst(3) {
            parameter.gradient.update(from: g, count: 3)
            second.update([parameter])
        }
        #expect(parameter.tensor.scalars == whole.last!)
    }

    /// A count far past any run (a hostile checkpoint) costs no more than some 2·10⁵ momentum
    /// factors: from where μ is β1 to double precision, the product is a power.
    @Test func nadamAtAHugeUpdateCountUpdatesAtOnce() {
        let optimizer = Nadam(learningRate: 0.01)
        optimizer.iterations = 1 << 40
        let after = Self.run(optimizer, start: [1], gradients: [[0.5]])[0]
        #expect(after[0].isFinite && after[0] < 1)
    }

    @Test func adagradAccumulatesSquaredGradients() {
        let after = Self.run(Adagrad(learningRate: 1, epsilon: 0), start: [0], gradients: [[3], [4]])
        #expect(after[0] == [-1])                   // −3 / √9
        #expect(abs(after[1][0] - (-1 - 4 / 5)) < 1e-6)  // −4 / √(9 + 16)
    }

    @Test func rmspropWithoutMomentumScalesByTheRunningSquare() {
        let after = Self.run(RMSprop(learningRate: 0.1, rho: 0.5, epsilon: 0), start: [1], gradients: [[2]])[0]
        // s = 0.5 · 4 = 2, p = 1 − 0.1 · 2 / √2
        #expect(abs(after[0] - (1 - 0.1 * 2 / Float(2).squareRoot())) < 1e-6)
    }

    @Test func schedulesFollowTheirFormulas() {
        #expect(LearningRateSchedule.step(every: 10, factor: 0.5).learningRate(base: 1, iteration: 25) == 0.25)
        #expect(LearningRateSchedule.exponential(rate: 0.5, steps: 10).learningRate(base: 1, iteration: 20) == 0.25)
        #expect(LearningRateSchedule.cosine(steps: 10, minimum: 0.1).learningRate(base: 1, iteration: 10) == 0.1)
        #expect(abs(LearningRateSchedule.cosine(steps: 10, minimum: 0).learningRate(base: 1, iteration: 5) - 0.5) < 1e-6)
        #expect(LearningRateSchedule.timeDecay(1).learningRate(base: 1, iteration: 3) == 0.25)
    }

    /// A warmup rises linearly from 0 over its steps, then runs its schedule from that step on
    /// (as Keras 3's CosineDecay with warmup_steps from 0).
    @Test func warmupRisesLinearlyThenFollowsItsSchedule() throws {
        let schedule = LearningRateSchedule.warmup(steps: 4, then: .cosine(steps: 8, minimum: 0))
        let rates = [0, 2, 4, 8, 12].map { schedule.learningRate(base: 2, iteration: $0) }
        #expect(rates[0] == 0 && rates[1] == 1 && rates[2] == 2 && abs(rates[3] - 1) < 1e-6 && rates[4] == 0, "\(rates)")
        #expect(LearningRateSchedule.warmup(steps: 3, then: .constant).learningRate(base: 0.3, iteration: 7) == 0.3)
        #expect(throws: ShapeError.self) { try LearningRateSchedule.warmup(steps: 0, then: .constant).validate() }
        #expect(throws: ShapeError.self) { try LearningRateSchedule.warmup(steps: 2, then: .warmup(steps: 2, then: .constant)).validate() }
        let adam = Adam(learningRate: 0.01, schedule: schedule)
        let json = try canonicalJSON(OptimizerDescription(adam))
        let again = try #require(try JSONDecoder().decode(OptimizerDescription.self, from: Data(json.utf8)).makeOptimizer() as? Adam)
        #expect(again.schedule == schedule, "\(json)")
    }

    @Test func optimizerDescriptionRoundTripsThroughJSON() throws {
        let adam = Adam(learningRate: 0.01, beta2: 0.99, weightDecay: 0.1, schedule: .cosine(steps: 100, minimum: 0))
        adam.iterations = 12
        let json = try canonicalJSON(OptimizerDescription(adam))
        #expect(json.contains(#""type":"Adam""#))
        let again = try JSONDecoder().decode(OptimizerDescription.self, from: Data(json.utf8)).makeOptimizer()
        let decoded = try #require(again as? Adam)
        #expect(decoded.configuration == adam.configuration && decoded.iterations == 12)
    }

    @Test func oldSGDCheckpointSettingsWithoutATypeDecodeAsSGD() throws {
        let old = #"{"decay":1e-06,"iterations":469,"learning_rate":0.1,"momentum":0.9,"nesterov":true}"#
        let sgd = try #require(try JSONDecoder().decode(OptimizerDescription.self, from: Data(old.utf8)).makeOptimizer() as? SGD)
        #expect(sgd.iterations == 469 && sgd.nesterov && sgd.decay == 1e-6)
    }

    @Test func hyperparametersOutOfRangeAreAnError() {
        let bad = #"{"type":"Adam","iterations":0,"learning_rate":0.1,"beta_1":1.5,"beta_2":0.9,"epsilon":1e-8,"weight_decay":0,"decoupled_weight_decay":false}"#
        #expect(throws: ShapeError.self) { try JSONDecoder().decode(OptimizerDescription.self, from: Data(bad.utf8)).makeOptimizer() }
    }
}
