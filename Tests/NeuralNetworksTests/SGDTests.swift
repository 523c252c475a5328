import Testing
@testable import NeuralNetworks

struct SGDTests {
    struct Fixture: Decodable {
        let learning_rate, momentum: Float
        let start: [Float]
        let gradients, after_each_step: [[Float]]
    }

    @Test func nesterovStepsMatchPyTorch() throws {
        let f = try Fixtures.load("sgd_nesterov.json", as: Fixture.self)
        let parameter = Parameter(name: "p", shape: [f.start.count])
        parameter.tensor = Tensor(shape: [f.start.count], scalars: f.start)
        let sgd = SGD(learningRate: f.learning_rate, momentum: f.momentum, nesterov: true)
        for (gradient, expected) in zip(f.gradients, f.after_each_step) {
            parameter.gradient.update(from: gradient, count: gradient.count)
            sgd.update([parameter])
            expectClose(parameter.tensor, Tensor(shape: [expected.count], scalars: expected), "after step \(sgd.iterations)")
        }
    }

    @Test func decayFollowsKeras2InverseTime() {
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, decay: 1e-6)
        #expect(sgd.currentLearningRate == 0.1)
        #expect(sgd.learningRate(iteration: 1_000_000) == 0.05)
        let parameter = Parameter(name: "p", shape: [1])
        sgd.update([parameter])
        #expect(sgd.iterations == 1)
        #expect(sgd.currentLearningRate == Float(0.1) / (1 + Float(1e-6)))
    }

    @Test func plainMomentumAccumulatesVelocity() {
        let sgd = SGD(learningRate: 0.5, momentum: 0.5)
        let parameter = Parameter(name: "p", shape: [1])
        parameter.gradient[0] = 1
        sgd.update([parameter])  // v = −0.5, p = −0.5
        sgd.update([parameter])  // v = −0.25 − 0.5 = −0.75, p = −1.25
        #expect(parameter.value[0] == -1.25)
    }
}
