import Foundation
import Testing
@testable import NeuralNetworks

struct ActivationTests {
    /// Inputs away from the kinks of relu (0) and hard sigmoid (±2.5), where finite differences lie.
    static func smoothInputs() -> Tensor {
        var generator = RandomGenerator(seed: 11)
        let values = (0..<36).map { _ -> Float in
            var x: Float
            repeat { x = Float(generator.uniform(-4, 4)) } while abs(x) < 0.05 || abs(abs(x) - 2.5) < 0.05
            return x
        }
        return Tensor(shape: [4, 9], scalars: values)
    }

    @Test(arguments: Activation.allCases)
    func activationGradientMatchesFiniteDifferences(_ activation: Activation) {
        checkGradients(of: ActivationLayer(activation), input: Self.smoothInputs())
    }

    @Test func vectorisedFunctionsMatchLibm() {
        var worst: [String: Double] = [:]
        var x: Float = -20
        while x <= 20 {
            let v = Vector(repeating: x)
            let pairs: [(String, Float, Double)] = [
                ("exp", VectorMath.exp(v)[0], Foundation.exp(Double(x))),
                ("sigmoid", VectorMath.sigmoid(v)[0], 1 / (1 + Foundation.exp(-Double(x)))),
                ("tanh", VectorMath.tanh(v)[0], Foundation.tanh(Double(x))),
            ]
            for (name, value, exact) in pairs {
                let error = abs(Double(value) - exact) / max(abs(exact), 1e-30)
                worst[name] = max(worst[name] ?? 0, name == "tanh" ? abs(Double(value) - exact) : error)
            }
            x += 0.01
        }
        #expect(worst["exp"]! < 5e-7)
        #expect(worst["sigmoid"]! < 5e-7)
        #expect(worst["tanh"]! < 5e-7)  // absolute: 4 units in the last place of 1
    }

    @Test func hardSigmoidIsKeras2Clip() {
        let v = VectorMath.hardSigmoid(Vector(-3, -2.5, -1, 0, 1, 2.5, 3, 0.25))
        #expect(v == Vector(0, 0, 0.3, 0.5, 0.7, 1, 1, 0.55))
    }

    @Test func softmaxRowsSumToOneEvenForHugeLogits() {
        let probe = ActivationLayer(.softmax)
        let y = probe.forward(Tensor(shape: [2, 3], scalars: [1000, 1001, 1002, -5, 0, 5]), training: false)
        #expect(abs(y.scalars[0..<3].reduce(0, +) - 1) < 1e-6)
        #expect(abs(y.scalars[3..<6].reduce(0, +) - 1) < 1e-6)
        #expect(y.scalars.allSatisfy { $0.isFinite })
    }

    @Test func newActivationsMatchTheirDefinitions() {
        let x: [Float] = [-2, -0.5, 0.5, 3]
        func run(_ activation: Activation) -> [Float] {
            ActivationLayer(activation).forward(Tensor(shape: [1, 4], scalars: x), training: false).scalars
        }
        func expect(_ activation: Activation, _ f: (Double) -> Double) {
            for (value, input) in zip(run(activation), x) {
                #expect(abs(Double(value) - f(Double(input))) < 2e-6, "\(activation)(\(input)) = \(value)")
            }
        }
        expect(.elu) { $0 > 0 ? $0 : Foundation.exp($0) - 1 }
        expect(.leakyRelu) { $0 > 0 ? $0 : 0.01 * $0 }
        expect(.softplus) { Foundation.log(1 + Foundation.exp($0)) }
        expect(.swish) { $0 / (1 + Foundation.exp(-$0)) }
        expect(.gelu) { 0.5 * $0 * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }
    }

    @Test func lstmRefusesActivationsWhoseDerivativeNeedsTheInput() {
        let gelu = #"{"type":"LSTM","units":4,"activation":"gelu"}"#
        #expect(throws: ShapeError.self) { try JSONDecoder().decode(LayerDescription.self, from: Data(gelu.utf8)).makeLayer() }
    }
}
