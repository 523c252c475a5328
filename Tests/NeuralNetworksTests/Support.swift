import Foundation
import Numerics
import Testing
@testable import NeuralNetworks

/// A tensor as the fixture generator (scripts/make_fixtures.py) writes it.
struct FixtureTensor: Decodable {
    let shape: [Int]
    let values: [Float]
    var tensor: Tensor { Tensor(shape: shape, scalars: values) }
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

/// The Fashion-MNIST files Debian's `dataset-fashion-mnist` installs.
let fashionMNIST = "/usr/share/datasets/fashion-mnist"

/// Expects every scalar to agree within `relative` (and `absolute` near zero).
func expectClose(_ actual: Tensor, _ expected: Tensor, relative: Float = 1e-5, absolute: Float = 1e-6,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    var worst = (index: -1, actual: Float(0), expected: Float(0))
    for (k, (a, e)) in zip(actual.scalars, expected.scalars).enumerated()
    where !a.isApproximatelyEqual(to: e, absoluteTolerance: absolute, relativeTolerance: relative) {
        worst = (k, a, e)
        break
    }
    #expect(worst.index == -1, "\(what): element \(worst.index) is \(worst.actual), expected \(worst.expected)",
            sourceLocation: sourceLocation)
}

func randomTensor(_ shape: [Int], scale: Double = 1, generator: inout RandomGenerator) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(generator.normal() * scale) })
}

/// Compares the analytic gradients of `loss = Σ forward(x) ⊙ upstream` (input and every
/// parameter) with central finite differences, the loss summed in Double.
/// With `sequenceLengths`, the passes run on padded sequences of those lengths. `checksInput`
/// false leaves the input gradient out (an ``Embedding``'s ids have none, and no fraction of one).
func checkGradients(of layer: any Layer, input: Tensor, epsilon: Float = 1e-3, tolerance: Double = 2e-3,
                    seed: UInt64 = 7, sequenceLengths: [Int]? = nil, checksInput: Bool = true,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    var generator = RandomGenerator(seed: seed)
    func forward(_ x: Tensor) -> Tensor {
        layer.forward(x, context: ForwardContext(training: true, sequenceLengths: sequenceLengths))
    }
    let output = forward(input)
    let upstream = randomTensor(output.shape, generator: &generator)
    func loss(_ x: Tensor) -> Double {
        zip(forward(x).scalars, upstream.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    for parameter in layer.allParameters { parameter.zeroGradient() }
    _ = forward(input)
    let inputGradient = layer.backward(upstream)
    let parameterGradients = layer.allParameters.map(\.gradientTensor)

    func compare(_ analytic: Float, _ perturb: (Float) -> Void, _ what: String) {
        perturb(epsilon)
        let plus = loss(input)
        perturb(-2 * epsilon)
        let minus = loss(input)
        perturb(epsilon)
        let numeric = (plus - minus) / (2 * Double(epsilon))
        let error = abs(numeric - Double(analytic))
        #expect(error <= tolerance * max(1, abs(numeric)),
                "\(what): analytic \(analytic), numeric \(numeric)", sourceLocation: sourceLocation)
    }
    for k in 0..<(checksInput ? input.count : 0) {
        var plus = input, minus = input
        plus.scalars[k] += epsilon
        minus.scalars[k] -= epsilon
        let numeric = (loss(plus) - loss(minus)) / (2 * Double(epsilon))
        let error = abs(numeric - Double(inputGradient.scalars[k]))
        #expect(error <= tolerance * max(1, abs(numeric)),
                "input[\(k)]: analytic \(inputGradient.scalars[k]), numeric \(numeric)", sourceLocation: sourceLocation)
    }
    // Buffers (a normalisation's statistics) are not trained: no gradient to check.
    for (parameter, gradient) in zip(layer.allParameters, parameterGradients) where parameter.isTrainable {
        for k in 0..<parameter.count {
            compare(gradient.scalars[k], { parameter.value[k] += $0 }, "\(parameter.name)[\(k)]")
        }
    }
}

/// A recurrent layer's reversed copy, with the same weights, reads the sequence from its end: its
/// outputs on `x` are the original's on `x` reversed in time (inputs `[2, 4, 2]`).
func expectGoingBackwardsReadsTheReversedSequence<L: RecurrentLayer>(_ forwards: L,
                                                                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    var generator = RandomGenerator(seed: 5)
    try forwards.build(inputShape: [4, 2], generator: &generator)
    let backwards = forwards.reversedCopy()
    try backwards.build(inputShape: [4, 2], generator: &generator)
    for (a, b) in zip(backwards.parameters, forwards.parameters) { a.tensor = b.tensor }
    let x = randomTensor([2, 4, 2], generator: &generator)
    var reversed = x
    for b in 0..<2 { for t in 0..<4 { for f in 0..<2 { reversed.scalars[(b * 4 + t) * 2 + f] = x.scalars[(b * 4 + 3 - t) * 2 + f] } } }
    #expect(backwards.forward(x, training: false) == forwards.forward(reversed, training: false), sourceLocation: sourceLocation)
}

extension CPUBackend {
    /// Every product and element-wise kernel on one path: a ``PanelKernel``'s name, or `blas`
    /// (OpenBLAS for the products, the widest element-wise kernel).
    static func path(_ name: String) -> CPUBackend {
        let kernel = PanelKernel(rawValue: name)
        return CPUBackend(kernel: kernel, unpackedKernel: kernel)
    }

    /// The names of every path this CPU runs.
    static let paths = PanelKernel.supported.map(\.rawValue) + ["blas"]
}
