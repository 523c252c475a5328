import Foundation
import Testing
@testable import NeuralNetworks

/// The compute seam: every product and element-wise kernel of the built-in layers goes through the
/// model's ``Backend``, and a backend that delegates to the CPU one trains exactly as it does.
struct BackendTests {
    /// The CPU backend with every call counted by kind: what a second backend would be asked to do.
    final class CountingBackend: Backend, @unchecked Sendable {
        let cpu = CPUBackend()
        private let lock = NSLock()
        private var counts: [String: Int] = [:]
        var name: String { "counting" }

        func count(_ kind: String) {
            lock.lock()
            counts[kind, default: 0] += 1
            lock.unlock()
        }
        var calls: [String: Int] {
            lock.lock()
            defer { lock.unlock() }
            return counts
        }

        func multiply(_ product: MatrixProduct, threads: Int) {
            count("multiply")
            cpu.multiply(product, threads: threads)
        }
        func makePackedOperand() -> any PackedOperand {
            count("packedOperand")
            return cpu.makePackedOperand()
        }
        func activate(_ function: Activation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                      rows: Int, width: Int, threads: Int) {
            count("activate")
            cpu.activate(function, x, y, rows: rows, width: width, threads: threads)
        }
        func activationGradient(_ function: Activation, input x: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                                outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                rows: Int, width: Int, threads: Int) {
            count("activationGradient")
            cpu.activationGradient(function, input: x, output: y, outputGradient: dy, inputGradient: dx, rows: rows,
                                   width: width, threads: threads)
        }
        func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
            count("add")
            cpu.add(x, into: y, count: n)
        }
        func multiply(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                      count n: Int) {
            count("scale")
            cpu.multiply(x, by: scale, into: y, count: n)
        }
        func fillRows(_ m: UnsafeMutablePointer<Float>, rows: Int, width: Int, with vector: UnsafePointer<Float>) {
            count("fillRows")
            cpu.fillRows(m, rows: rows, width: width, with: vector)
        }
        func addColumnSums(of m: UnsafePointer<Float>, rows: Int, width: Int, into sum: UnsafeMutablePointer<Float>) {
            count("columnSums")
            cpu.addColumnSums(of: m, rows: rows, width: width, into: sum)
        }
        func lstmStepForward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                             cell: UnsafeMutablePointer<Float>, cellActivation: UnsafeMutablePointer<Float>,
                             hidden: UnsafeMutablePointer<Float>, hiddenStride: Int) {
            count("lstmForward")
            cpu.lstmStepForward(step, gates: gates, previousCell: previousCell, cell: cell,
                                cellActivation: cellActivation, hidden: hidden, hiddenStride: hiddenStride)
        }
        func lstmStepBackward(_ step: LSTMStep, gates: UnsafeMutablePointer<Float>, previousCell: UnsafePointer<Float>,
                              cellActivation: UnsafePointer<Float>, dh: UnsafePointer<Float>, dc: UnsafeMutablePointer<Float>) {
            count("lstmBackward")
            cpu.lstmStepBackward(step, gates: gates, previousCell: previousCell, cellActivation: cellActivation, dh: dh,
                                 dc: dc)
        }
    }

    /// A model with every computing built-in layer (Bidirectional LSTM, Dense, Activation,
    /// Dropout, GaussianNoise, Residual, Concatenate) over 5 steps of 4 features.
    static func model() throws -> Sequential {
        let model = Sequential {
            Bidirectional(LSTM(units: 3, returnSequences: true))
            Flatten()
            GaussianNoise(stddev: 0.1)
            Dense(units: 8, activation: .relu)
            Dropout(rate: 0.25)
            Residual { Dense(units: 8, activation: .tanh) }
            Concatenate { Dense(units: 3); Dense(units: 2, activation: .sigmoid) }
            ActivationLayer(.swish)
            Dense(units: 4, activation: .softmax)
        }
        try model.build(inputShape: [5, 4], seed: 3)
        return model
    }

    static func trainTwoSteps(_ model: Sequential) throws -> [Float] {
        var generator = RandomGenerator(seed: 9)
        let x = randomTensor([6, 5, 4], generator: &generator)
        let optimizer = SGD(learningRate: 0.1, momentum: 0.9)
        var losses: [Float] = []
        for _ in 0..<2 {
            losses.append(try model.trainStep(x, labels: [0, 1, 2, 3, 0, 1], loss: .categoricalCrossEntropy,
                                              optimizer: optimizer).loss)
        }
        return losses
    }

    @Test func everyBuiltInLayerComputesThroughTheModelsBackend() throws {
        let counting = CountingBackend()
        let model = try Self.model()
        model.backend = counting
        _ = try Self.trainTwoSteps(model)
        let calls = counting.calls
        // The LSTM's steps (5 per direction and pass), its packed weights, the Dense products
        // (forward, kernel gradient, input gradient), biases, activations, the dropout mask, the
        // noise, the residual and concatenated branches' sums.
        #expect(calls["lstmForward"] == 2 * 2 * 5)
        #expect(calls["lstmBackward"] == 2 * 2 * 5)
        #expect(calls["packedOperand", default: 0] >= 4)
        for kind in ["multiply", "activate", "activationGradient", "add", "scale", "fillRows", "columnSums"] {
            #expect(calls[kind, default: 0] > 0, "no \(kind) went through the backend")
        }
    }

    @Test func aDelegatingBackendTrainsExactlyAsTheCPUBackend() throws {
        let cpu = try Self.model()
        let delegating = try Self.model()
        delegating.backend = CountingBackend()
        #expect(try Self.trainTwoSteps(cpu) == Self.trainTwoSteps(delegating))
        for (a, b) in zip(cpu.parameters, delegating.parameters) {
            #expect(a.tensor == b.tensor, "\(a.name) differs")
        }
    }

    /// Products split over threads (by rows or by columns) and run on each kernel give what one
    /// OpenBLAS call gives, to rounding.
    @Test(arguments: [(128, 512, 784, false, false), (784, 512, 128, true, false), (128, 784, 512, false, true),
                      (300, 70, 513, true, true)])
    func everyKernelAndSplitComputesTheSameProduct(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) {
        var generator = RandomGenerator(seed: UInt64(m + n + k))
        let a = randomTensor([m * k], generator: &generator), b = randomTensor([k * n], generator: &generator)
        let c0 = randomTensor([m * n], generator: &generator)
        func run(_ backend: CPUBackend, threads: Int) -> Tensor {
            var c = c0
            a.scalars.withUnsafeBufferPointer { a in
                b.scalars.withUnsafeBufferPointer { b in
                    c.scalars.withUnsafeMutableBufferPointer { c in
                        backend.multiply(MatrixProduct(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                       alpha: 1.5, a: a.baseAddress!, lda: transposeA ? m : k, b: b.baseAddress!,
                                                       ldb: transposeB ? k : n, beta: 0.5, c: c.baseAddress!, ldc: n),
                                         threads: threads)
                    }
                }
            }
            return c
        }
        let reference = run(CPUBackend(kernel: nil, unpackedKernel: nil), threads: 1)
        for kernel in PanelKernel.supported + [nil] {
            for threads in [1, 2, 3] {
                expectClose(run(CPUBackend(kernel: nil, unpackedKernel: kernel), threads: threads), reference,
                            relative: 1e-4, absolute: 1e-4, "\(kernel?.rawValue ?? "blas") on \(threads) threads")
            }
        }
    }
}
